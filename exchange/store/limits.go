package store

import "github.com/babgate/bab/internal/boltdb"

// bucketLimits holds the rate limiter's saved counts: for each consumer
// member, rule and quota of an hour or longer, how much of it the member's
// appliances together have left and when that was counted. Keys and values
// are the rate limiter's encoding (internal/ratelimit).
var bucketLimits = []byte("limits")

// LimitCounters returns the saved counts.
func (s *Store) LimitCounters() (map[string][]byte, error) { return boltdb.ReadAll(s.db, bucketLimits) }

// SetLimitCounters replaces the saved counts with recs.
func (s *Store) SetLimitCounters(recs map[string][]byte) error {
	return boltdb.ReplaceAll(s.db, bucketLimits, recs)
}
