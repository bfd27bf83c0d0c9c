// Package appliance is the office appliance daemon: it composes the tunnels
// to the exchange, the signed policy it enforces, the local gateway that
// local information systems call, the forwarding of requests that arrive
// for this office's services to their backends, the control socket that
// bab status and bab doctor use, and metrics and health for monitoring.
package appliance
