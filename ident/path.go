package ident

import "fmt"

// SplitServicePath splits a request's URL path into the service it addresses
// (its first four segments) and the path inside that service, e.g.
// "/MA/GOV/DGSN/civil-status/citizens/42" into MA/GOV/DGSN/civil-status and
// "/citizens/42". rest always starts with "/", so it can be forwarded as a
// path as it is; a path naming only the service gives rest "/".
//
// It does not clean or unescape p: checking rest is the job of the caller's
// path policy.
func SplitServicePath(p string) (svc Service, rest string, err error) {
	if p == "" {
		return Service{}, "", newError(KindServicePath, p, "path is empty")
	}
	if p[0] != '/' {
		return Service{}, "", newError(KindServicePath, p, "path must start with '/'")
	}
	// end is the index of the '/' closing the fourth segment, or len(p).
	end, seen := len(p), 0
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			seen++
			if seen == 4 {
				end = i
				break
			}
		}
	}
	if seen < 3 {
		reason := fmt.Sprintf("has %d segments, want at least 4 (/country/class/code/name)", seen+1)
		return Service{}, "", newError(KindServicePath, p, reason)
	}
	svc, reason := parseService(p[1:end])
	if reason != "" {
		return Service{}, "", newError(KindServicePath, p, reason)
	}
	rest = p[end:]
	if rest == "" {
		rest = "/"
	}
	return svc, rest, nil
}
