package render

import (
	"reflect"
	"testing"
)

// TestHostCacheKeyFields: the host cache keys a host by encoding/json of
// the whole Host, which leaves unexported fields out. A field ForHost
// reads that the key missed would let a stale entry pass, so every field
// of Host and NIC is exported, except configOnly, which no cached host
// has (HostCache.key refuses one).
func TestHostCacheKeyFields(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[Host](), reflect.TypeFor[NIC]()} {
		for f := range typ.Fields() {
			if !f.IsExported() && !(typ == reflect.TypeFor[Host]() && f.Name == "configOnly") {
				t.Errorf("%s.%s is unexported: the host cache's key (encoding/json) leaves it out; export it, or put it in HostCache.key", typ.Name(), f.Name)
			}
			if f.Tag.Get("json") == "-" {
				t.Errorf("%s.%s is left out of JSON: the host cache's key would miss it", typ.Name(), f.Name)
			}
		}
	}
}
