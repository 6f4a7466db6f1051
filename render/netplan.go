package render

import "errors"

func netplan(h *Host) ([]File, error) { return nil, errors.New("not written yet") }
