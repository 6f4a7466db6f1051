//go:build !linux

package standin

import (
	"errors"
	"net"
)

func listenInNetns(netns, addr string) (net.Listener, error) {
	return nil, errors.New("network namespaces are Linux only")
}
