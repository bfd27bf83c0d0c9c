package exchange

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/babgate/bab/exchange/store"
)

func TestRenewable(t *testing.T) {
	reg := store.Appliance{KeyHash: "sha256:registered"}
	revoked := reg
	revoked.Revoked = true
	legacy := store.Appliance{}
	tests := []struct {
		name              string
		a                 store.Appliance
		tunnelKey, csrKey string
		want              error
	}{
		{"the registered key, over its own tunnel", reg, "sha256:registered", "sha256:registered", nil},
		{"another key than the tunnel's", reg, "sha256:registered", "sha256:other", ErrRenewOtherKey},
		{"a tunnel whose key is not registered", reg, "sha256:replaced", "sha256:replaced", ErrRenewNotRegistered},
		{"revoked while the tunnel was up", revoked, "sha256:registered", "sha256:registered", ErrRenewRevoked},
		{"no key recorded", legacy, "sha256:any", "sha256:any", ErrRenewNotRegistered},
	}
	for _, tc := range tests {
		if err := renewable(&tc.a, tc.tunnelKey, tc.csrKey); !errors.Is(err, tc.want) {
			t.Errorf("%s: renewable = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestCarryOver(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	base := map[int][]byte{0: []byte("fw"), 7: []byte("sb-on")}
	tampered := map[int][]byte{0: []byte("fw"), 7: []byte("sb-off")}
	old := store.Appliance{KeyKind: "tpm", PCRs: []int{0, 7}, Baseline: base}
	quarantined := old
	quarantined.Quarantined, quarantined.QuarantineReason = true, "boot state differs from the baseline in PCR [7]"
	tests := []struct {
		name           string
		old            store.Appliance
		golden, pcrs   map[int][]byte
		wantQuarantine bool
		wantBaseline   map[int][]byte
	}{
		{"same boot state", old, nil, base, false, base},
		{"another boot state", old, nil, tampered, true, base},
		{"quarantined, same boot state: lifted by the first verified quote only", quarantined, nil, base, true, base},
		{"ops set golden values for the new machine", old, tampered, tampered, false, tampered},
	}
	for _, tc := range tests {
		a := store.Appliance{KeyKind: "tpm", PCRs: []int{0, 7}, Baseline: tc.pcrs}
		carryOver(&a, &tc.old, tc.golden, tc.pcrs, now)
		if a.Quarantined != tc.wantQuarantine || fmt.Sprint(a.Baseline) != fmt.Sprint(tc.wantBaseline) || fmt.Sprint(a.LastPCRs) != fmt.Sprint(tc.pcrs) {
			t.Errorf("%s: quarantined %v (%s), baseline %v, last %v", tc.name, a.Quarantined, a.QuarantineReason, a.Baseline, a.LastPCRs)
		}
	}
}
