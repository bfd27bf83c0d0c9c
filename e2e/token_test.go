package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/internal/lab"
)

// TestTokenRedeemedConcurrently: eight appliances race to enroll with one
// token: exactly one is enrolled, and each of the others is told that the
// token was used.
func TestTokenRedeemedConcurrently(t *testing.T) {
	const n = 8
	l := newLab(t, lab.Options{SoftwareKeys: true})
	tok, err := l.CreateToken(lab.Commune, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	outs := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			outs[i], errs[i] = enrollFresh(t, l, filepath.Join(dir, fmt.Sprint(i)), tok, fmt.Sprintf("racer%d", i))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i := range n {
		switch {
		case errs[i] == nil:
			won++
		case !strings.Contains(outs[i], "token_used") || !strings.Contains(outs[i], "single use"):
			t.Errorf("enrollment %d failed without saying the token was used: %v\n%s", i, errs[i], outs[i])
		}
	}
	if won != 1 {
		t.Errorf("%d enrollments won with one token, want 1", won)
	}
	var fleet []exchange.ApplianceView
	if err := getJSON(l, "/v1/appliances", &fleet); err != nil {
		t.Fatal(err)
	}
	racers := 0
	for _, v := range fleet {
		if strings.Contains(v.ID, ":racer") {
			racers++
		}
	}
	if racers != 1 {
		t.Errorf("the registry holds %d of the racers, want 1", racers)
	}
}
