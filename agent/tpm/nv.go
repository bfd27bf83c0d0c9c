package tpm

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// defaultNVChunk is the read size when the TPM does not say its maximum.
const defaultNVChunk = 512

// readNV reads a whole NV index, authorising with the index itself (EK
// certificate indices are readable with their empty auth value), in chunks
// no larger than the TPM's NV buffer.
func readNV(tr transport.TPM, idx tpm2.TPMHandle) ([]byte, error) {
	pubRsp, err := tpm2.NVReadPublic{NVIndex: idx}.Execute(tr)
	if err != nil {
		return nil, err
	}
	pub, err := pubRsp.NVPublic.Contents()
	if err != nil {
		return nil, fmt.Errorf("NV public area: %w", err)
	}
	chunk := nvChunk(tr)
	h := tpm2.NamedHandle{Handle: idx, Name: pubRsp.NVName}
	out := make([]byte, 0, pub.DataSize)
	for len(out) < int(pub.DataSize) {
		n := min(int(pub.DataSize)-len(out), chunk)
		rsp, err := tpm2.NVRead{
			AuthHandle: h,
			NVIndex:    h,
			Size:       uint16(n),
			Offset:     uint16(len(out)),
		}.Execute(tr)
		if err != nil {
			return nil, fmt.Errorf("NV read at %d: %w", len(out), err)
		}
		if len(rsp.Data.Buffer) == 0 {
			return nil, fmt.Errorf("NV read at %d: empty answer", len(out))
		}
		out = append(out, rsp.Data.Buffer...)
	}
	return out, nil
}

// nvChunk asks the TPM for TPM_PT_NV_BUFFER_MAX.
func nvChunk(tr transport.TPM) int {
	rsp, err := tpm2.GetCapability{
		Capability:    tpm2.TPMCapTPMProperties,
		Property:      uint32(tpm2.TPMPTNVBufferMax),
		PropertyCount: 1,
	}.Execute(tr)
	if err != nil {
		return defaultNVChunk
	}
	props, err := rsp.CapabilityData.Data.TPMProperties()
	if err != nil || len(props.TPMProperty) == 0 || props.TPMProperty[0].Property != tpm2.TPMPTNVBufferMax {
		return defaultNVChunk
	}
	if v := int(props.TPMProperty[0].Value); v > 0 {
		return v
	}
	return defaultNVChunk
}
