// Package lab starts a whole Bab federation on loopback from real
// processes: one bab-exchange, two bab appliances (a commune that consumes
// and the civil registry that provides) and a sample backend. The lab
// command, the end-to-end tests and the benchmark all use it.
package lab
