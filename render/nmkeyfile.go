package render

import "errors"

func nmKeyfile(h *Host) ([]File, error) { return nil, errors.New("not written yet") }
