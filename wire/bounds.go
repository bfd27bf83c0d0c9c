package wire

import (
	"encoding/json"
	"fmt"
	"time"
)

// The numbers a peer sends in control frames are bounded here, when the
// frame is decoded, so that no caller has to remember to. A number out of
// bounds refuses the frame with ErrOutOfRange, except a retry hint: that is
// advice, clamped so that the error it comes with still reaches the caller.
const (
	// MinHeartbeat and MaxHeartbeat bound Welcome.Heartbeat: pinging
	// faster busies the control stream for nothing, and pinging slower
	// leaves a dead tunnel unnoticed for too long.
	MinHeartbeat = 100 * time.Millisecond
	MaxHeartbeat = 10 * time.Minute
	// MaxRetryAfter bounds Error.RetryAfter: the longest wait a policy
	// limit can impose is a day (one request per day), so anything longer
	// is not a wait that will end.
	MaxRetryAfter = 24 * time.Hour
)

// UnmarshalJSON refuses a heartbeat outside [MinHeartbeat, MaxHeartbeat];
// 0 (as in a probe's welcome) means the appliance keeps its own default.
func (w *Welcome) UnmarshalJSON(b []byte) error {
	type plain Welcome // the same fields, without this method
	if err := json.Unmarshal(b, (*plain)(w)); err != nil {
		return err
	}
	if w.Heartbeat != 0 && !w.Heartbeat.Within(MinHeartbeat, MaxHeartbeat) {
		return fmt.Errorf("%w: heartbeat_ms %d is outside %d to %d",
			ErrOutOfRange, w.Heartbeat, ToMillis(MinHeartbeat), ToMillis(MaxHeartbeat))
	}
	return nil
}

// UnmarshalJSON clamps the retry hint to [0, MaxRetryAfter]. The exchange
// passes a provider appliance's error frames on as they are, so this is
// where a consumer stops a provider's number from becoming its callers'
// Retry-After.
func (e *Error) UnmarshalJSON(b []byte) error {
	type plain Error
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	e.RetryAfter = min(max(e.RetryAfter, 0), ToMillis(MaxRetryAfter))
	return nil
}

// UnmarshalJSON refuses a negative policy threshold: the appliance would
// store it as the number of ops signatures a bundle needs.
func (e *Enrolled) UnmarshalJSON(b []byte) error {
	type plain Enrolled
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	if e.PolicyThreshold < 0 {
		return fmt.Errorf("%w: policy_threshold %d is negative", ErrOutOfRange, e.PolicyThreshold)
	}
	return nil
}
