package store

import "github.com/babgate/bab/internal/boltdb"

// bucketLimits holds the rate limiter's saved counts: for each rule and
// quota of an hour or longer, how much of it this appliance's own calls
// have left and when that was counted. Counters only, never a request;
// keys and values are the rate limiter's encoding (internal/ratelimit).
var bucketLimits = []byte("limits")

// LimitCounters returns the saved counts.
func (s *Store) LimitCounters() (map[string][]byte, error) { return boltdb.ReadAll(s.db, bucketLimits) }

// SetLimitCounters replaces the saved counts with recs.
func (s *Store) SetLimitCounters(recs map[string][]byte) error {
	return boltdb.ReplaceAll(s.db, bucketLimits, recs)
}
