package metrics

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are metrics read back, from a registry or a scrape, by name:
// what tests and the lab check the daemons' figures with.
type Families map[string]*dto.MetricFamily

// Gather reads what g holds now.
func Gather(g prometheus.Gatherer) (Families, error) {
	list, err := g.Gather()
	if err != nil {
		return nil, err
	}
	f := make(Families, len(list))
	for _, mf := range list {
		f[mf.GetName()] = mf
	}
	return f, nil
}

// ParseText reads the Prometheus text format, as /metrics serves it.
func ParseText(r io.Reader) (Families, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	f, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("metrics: not the Prometheus text format: %w", err)
	}
	return f, nil
}

// Value returns the value of the series of metric name whose labels are
// exactly labels, given as name, value, name, value…: a counter's or a
// gauge's value, or a histogram's count of observations. ok is false when
// there is no such series.
func (f Families) Value(name string, labels ...string) (v float64, ok bool) {
	mf := f[name]
	if mf == nil {
		return 0, false
	}
	for _, s := range mf.GetMetric() {
		if !sameLabels(s.GetLabel(), labels) {
			continue
		}
		switch {
		case s.Counter != nil:
			return s.GetCounter().GetValue(), true
		case s.Gauge != nil:
			return s.GetGauge().GetValue(), true
		case s.Histogram != nil:
			return float64(s.GetHistogram().GetSampleCount()), true
		case s.Untyped != nil:
			return s.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// Series counts the series of metric name.
func (f Families) Series(name string) int {
	if mf := f[name]; mf != nil {
		return len(mf.GetMetric())
	}
	return 0
}

func sameLabels(have []*dto.LabelPair, want []string) bool {
	if len(want)%2 != 0 || len(have) != len(want)/2 {
		return false
	}
	for _, l := range have {
		found := false
		for i := 0; i < len(want); i += 2 {
			if want[i] == l.GetName() {
				found = want[i+1] == l.GetValue()
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
