package render

import "errors"

func ifcfg(h *Host) ([]File, error) { return nil, errors.New("not written yet") }
