package logging

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
)

type sent struct {
	msg    string
	pri    journal.Priority
	fields map[string]string
}

func capture(fail bool) (*[]sent, Sender) {
	var got []sent
	return &got, func(msg string, p journal.Priority, f map[string]string) error {
		if fail {
			return errors.New("journal socket gone")
		}
		got = append(got, sent{msg, p, f})
		return nil
	}
}

func TestJournalFields(t *testing.T) {
	got, send := capture(false)
	var fb bytes.Buffer
	log := slog.New(NewJournalHandler("bab", slog.LevelInfo, send, &fb)).With("subsys", "gateway")
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	log.Debug("not sent: below the level")
	log.Info("request refused", "request_id", "ab12", "consumer", "civil-registry", "outcome", "not_allowed",
		"duration", 1500*time.Microsecond, "message", "clash", "at", at, slog.Group("tls", "peer-name", "x"))
	log.WithGroup("store").Error("write failed", "err", errors.New("disk full"))
	log.Warn("warned")
	if len(*got) != 3 {
		t.Fatalf("sent %d records, want 3: %+v", len(*got), *got)
	}
	r := (*got)[0]
	if r.msg != "request refused" || r.pri != journal.PriInfo {
		t.Errorf("first record: %q priority %d", r.msg, r.pri)
	}
	want := map[string]string{
		"SYSLOG_IDENTIFIER": "bab", "SUBSYS": "gateway", "REQUEST_ID": "ab12", "CONSUMER": "civil-registry",
		"OUTCOME": "not_allowed", "DURATION": "1.5ms", "BAB_MESSAGE": "clash", "AT": "2026-11-22T10:00:00Z", "TLS_PEER_NAME": "x",
	}
	for k, v := range want {
		if r.fields[k] != v {
			t.Errorf("field %s = %q, want %q (all: %v)", k, r.fields[k], v, r.fields)
		}
	}
	if len(r.fields) != len(want) {
		t.Errorf("fields %v, want exactly %v", r.fields, want)
	}
	if e := (*got)[1]; e.pri != journal.PriErr || e.fields["STORE_ERR"] != "disk full" || e.fields["SUBSYS"] != "gateway" {
		t.Errorf("grouped error record: %+v", e)
	}
	if w := (*got)[2]; w.pri != journal.PriWarning {
		t.Errorf("warning sent with priority %d", w.pri)
	}
	if fb.Len() != 0 {
		t.Errorf("fallback written while the journal worked: %q", fb.String())
	}
}

func TestJournalFallsBackToText(t *testing.T) {
	_, send := capture(true)
	var fb bytes.Buffer
	slog.New(NewJournalHandler("bab", slog.LevelInfo, send, &fb)).Info("policy applied", "version", 7)
	if !strings.Contains(fb.String(), "policy applied") || !strings.Contains(fb.String(), "version=7") {
		t.Fatalf("a record the journal refused is lost; fallback has %q", fb.String())
	}
}

func TestFieldName(t *testing.T) {
	for in, want := range map[string]string{"request_id": "REQUEST_ID", "_x": "X", "9lives": "F_9LIVES", "": "F_", "peer.addr": "PEER_ADDR",
		strings.Repeat("a", 70): strings.Repeat("A", 64)} {
		if got := fieldName(in); got != want {
			t.Errorf("fieldName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForDaemonOutsideSystemd(t *testing.T) {
	var b bytes.Buffer
	ForDaemon("bab", &b, slog.LevelInfo).Info("hello")
	if !strings.Contains(b.String(), "msg=hello") {
		t.Fatalf("not text on the given writer: %q", b.String())
	}
}
