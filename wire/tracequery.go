package wire

// Queries an appliance makes of the exchange on its control stream
// (package tracelog has their messages, TraceQuery and TraceRecords). They
// take a range of their own, apart from the messages that keep the
// tunnel (0x01 to 0x0f), the request streams' and enrollment's.
const (
	FrameTraceQuery   FrameType = 0x30 // appliance → exchange: its member's trace records
	FrameTraceRecords FrameType = 0x31 // exchange → appliance: a page of them
)
