package render

import "errors"

func powershell(h *Host) ([]File, error) { return nil, errors.New("not written yet") }
