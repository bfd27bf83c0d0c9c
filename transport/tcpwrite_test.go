package transport

import (
	"io"
	"net"
	"testing"
	"time"
)

// What is written arrives whole and in order, Close writes what waits,
// and a failed write fails the writes after it.
func TestWriteBehind(t *testing.T) {
	a, b := net.Pipe()
	w := newWriteBehind(a)
	got := make(chan []byte)
	go func() { all, _ := io.ReadAll(b); got <- all }()
	var want []byte
	for i := range 1000 {
		p := []byte{byte(i), byte(i >> 8), 'x'}
		want = append(want, p...)
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if all := <-got; string(all) != string(want) {
		t.Fatalf("read %d bytes, want the %d written in order", len(all), len(want))
	}

	a, b = net.Pipe()
	w = newWriteBehind(a)
	b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := w.Write([]byte("lost")); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes to a closed peer never failed")
		}
		time.Sleep(time.Millisecond)
	}
	w.Close()
}
