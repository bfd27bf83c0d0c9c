package exchange

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/tracelog"
)

// The exchange's subject keys. A request that names its subject (the
// person its data is about) is traced with HMAC-SHA-256(key, subject),
// never the subject: whoever reads the state file cannot tell whose
// records it holds, nor try every national number against them, without
// the key. Reports ("who consulted my data") hash the subject asked
// about with every key kept and look the hashes up.
//
// The keys live in the state file sealed (AES-256-GCM) under a
// key-encryption key that does not: the subject key file
// (subject_key_file, by default subject.key in the state directory, mode
// 0600), made on the first start. A copy of the state file alone, a
// backup or one handed to an auditor for trace verify, holds no usable
// key. Losing the file loses every report of the records already traced;
// that is also how rotation ends a key's life: `trace subject-key rotate`
// starts a new key, the old ones stay (sealed) while records they hashed
// are kept, and the exchange destroys each once its last record is
// pruned.
//
// systemd credentials (LoadCredentialEncrypted=) could seal the file to
// the machine's TPM, but the exchange could not make it on its first
// start, and restoring an exchange on another machine would need the
// credential re-encrypted there; a plain file that ops back up apart is
// simpler, and as safe against a copied state file.

// subjectHashDomain separates the subject hash from any other use of the
// key.
const subjectHashDomain = "bab-subject-v1\x00"

// subjectKeyring holds the subject keys, unsealed, for hashing.
type subjectKeyring struct {
	st  *store.Store
	kek cipher.AEAD
	log *slog.Logger

	mu      sync.RWMutex
	keys    map[uint32][]byte // kept keys, by number
	current uint32
}

// ErrSubjectKeyFile means the subject key file cannot be used: missing
// while the state file holds keys it sealed, not the file that sealed
// them, or readable by others.
var ErrSubjectKeyFile = errors.New("exchange: subject key file")

// loadSubjectKeys reads the subject key file (making it on the first
// start) and unseals the keys the state file holds; with none, or none
// current, it makes one.
func loadSubjectKeys(st *store.Store, path string, log *slog.Logger) (*subjectKeyring, error) {
	stored, err := st.SubjectKeys()
	if err != nil {
		return nil, err
	}
	sealed := 0
	for _, k := range stored {
		if k.Sealed != nil {
			sealed++
		}
	}
	kek, err := readKEK(path)
	if errors.Is(err, fs.ErrNotExist) && sealed == 0 {
		kek, err = makeKEK(path)
		if err == nil {
			log.Info("made the subject key file, which seals the keys that hash requests' subjects; back it up apart from the state file and keep it restricted (docs/trace.md)", "file", path)
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w %s does not exist, but the state file holds %d subject key(s) sealed under it: restore it from its backup. "+
			"If it is lost for good, `bab-exchange trace subject-key forget` (with the exchange stopped) gives up those keys: "+
			"subject reports then cannot find the records traced so far", ErrSubjectKeyFile, path, sealed)
	}
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &subjectKeyring{st: st, kek: aead, log: log, keys: map[uint32][]byte{}}
	for _, sk := range stored {
		if sk.Sealed == nil {
			continue
		}
		key, err := k.unseal(sk.ID, sk.Sealed)
		if err != nil {
			return nil, fmt.Errorf("%w %s does not open subject key %d of the state file: it is not the file that sealed it (restore that one; if it is lost for good, see bab-exchange trace subject-key forget)", ErrSubjectKeyFile, path, sk.ID)
		}
		k.keys[sk.ID] = key
		if sk.Retired.IsZero() {
			k.current = sk.ID
		}
	}
	if k.current == 0 {
		if _, err := k.rotate(time.Now()); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// readKEK reads the subject key file: comment lines, then one line of 32
// bytes in base64. A file others may read is refused, as ssh refuses a
// private key.
func readKEK(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w %s has mode %04o, which lets others read it: chmod 600 %s", ErrSubjectKeyFile, path, fi.Mode().Perm(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var key []byte
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if key != nil {
			return nil, fmt.Errorf("%w %s holds more than one key line", ErrSubjectKeyFile, path)
		}
		if key, err = base64.StdEncoding.DecodeString(line); err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%w %s is not a subject key file: its key line is not 32 bytes in base64", ErrSubjectKeyFile, path)
		}
	}
	if key == nil {
		return nil, fmt.Errorf("%w %s holds no key line", ErrSubjectKeyFile, path)
	}
	return key, nil
}

// makeKEK writes a new subject key file, mode 0600, refusing to replace
// one.
func makeKEK(path string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSubjectKeyFile, err)
	}
	text := "# The Bab exchange's subject key file: it seals the keys with which the exchange\n" +
		"# hashes the subjects of requests in its trace. Keep it apart from exchange.db,\n" +
		"# mode 0600, and back it up apart: without it, no subject report finds the\n" +
		"# records traced so far (docs/trace.md).\n" + base64.StdEncoding.EncodeToString(key) + "\n"
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// sealAD is what a sealed key's seal covers besides the key: its number,
// so that two sealed keys cannot be swapped in the state file.
func sealAD(id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte("bab-subject-key-v1\x00"), id)
}

func (k *subjectKeyring) seal(id uint32, key []byte) ([]byte, error) {
	nonce := make([]byte, k.kek.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.kek.Seal(nonce, nonce, key, sealAD(id)), nil
}

func (k *subjectKeyring) unseal(id uint32, sealed []byte) ([]byte, error) {
	n := k.kek.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed key too short")
	}
	return k.kek.Open(nil, sealed[:n], sealed[n:], sealAD(id))
}

// rotate makes a new current key; the previous ones stay for reports.
func (k *subjectKeyring) rotate(now time.Time) (uint32, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return 0, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	id, err := k.st.AddSubjectKey(func(id uint32) ([]byte, error) { return k.seal(id, key) }, now.UTC())
	if err != nil {
		return 0, fmt.Errorf("exchange: new subject key: %w", err)
	}
	k.keys[id], k.current = key, id
	k.log.Info("began a new subject key; the older ones stay, sealed, while records they hashed are kept", "subsys", "trace", "subject_key", id)
	return id, nil
}

// hash is a subject's hash under the current key, and that key's number.
func (k *subjectKeyring) hash(subject string) (uint32, tracelog.Digest) {
	k.mu.RLock()
	id, key := k.current, k.keys[k.current]
	k.mu.RUnlock()
	return id, subjectHash(key, subject)
}

// hashes are a subject's hashes under every key kept, for a report.
func (k *subjectKeyring) hashes(subject string) map[uint32]tracelog.Digest {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := make(map[uint32]tracelog.Digest, len(k.keys))
	for id, key := range k.keys {
		out[id] = subjectHash(key, subject)
	}
	return out
}

func subjectHash(key []byte, subject string) tracelog.Digest {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(subjectHashDomain))
	m.Write([]byte(subject))
	var d tracelog.Digest
	m.Sum(d[:0])
	return d
}

// dropUnused destroys the retired keys that no kept record was hashed
// with. A retired key hashes no new request, but requests that began
// before it was retired may still be traced: a key is looked at only
// once inFlight (the longest a request lasts) has passed since.
func (k *subjectKeyring) dropUnused(now time.Time, inFlight time.Duration) {
	stored, err := k.st.SubjectKeys()
	if err != nil {
		k.log.Error("listing the subject keys failed", "err", err)
		return
	}
	for _, sk := range stored {
		if sk.Sealed == nil || sk.Retired.IsZero() || now.Sub(sk.Retired) < inFlight {
			continue
		}
		used, err := k.st.SubjectKeyInUse(sk.ID)
		if err != nil || used {
			continue
		}
		if err := k.st.DropSubjectKey(sk.ID, now.UTC()); err != nil {
			k.log.Error("destroying a subject key whose records were all pruned failed", "subject_key", sk.ID, "err", err)
			continue
		}
		k.mu.Lock()
		delete(k.keys, sk.ID)
		k.mu.Unlock()
		k.log.Info("destroyed a retired subject key: every record it hashed was pruned", "subject_key", sk.ID)
	}
}
