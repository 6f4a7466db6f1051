package render

import "errors"

func networkd(h *Host) ([]File, error) { return nil, errors.New("not written yet") }
