package tlswire

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Flight13 is what a TLS 1.3 server sends up to its Certificate, read
// and decrypted with our own hello's key share: for servers crypto/tls
// cannot complete a handshake with (only the CCM suites, an Ed448 key).
type Flight13 struct {
	Suite        uint16
	CertRequest  bool     // CertificateRequest in the encrypted flight
	Certificates [][]byte // DER, the leaf first
	Alert        *Alert   // an alert instead of the flight
	Done         bool     // the server's Finished was read
	reqContext   []byte   // the CertificateRequest's context
	keys         *schedule
}

// ReadFlight13 reads the answer to ClientHello (the record written, whose
// X25519 share is key's) from r, up to and including the Certificate.
func ReadFlight13(r io.Reader, clientHello []byte, key *ecdh.PrivateKey) (*Flight13, error) {
	f := &Flight13{}
	if len(clientHello) < 5 {
		return f, errors.New("no ClientHello")
	}
	transcript := append([]byte(nil), clientHello[5:]...)
	var hs bytes.Buffer
	var dec *recordKeys
	defer func() {
		if f.keys != nil {
			f.keys.transcript = transcript
		}
	}()
	total := 0
	hdr := make([]byte, 5)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return f, err
		}
		typ, length := hdr[0], int(binary.BigEndian.Uint16(hdr[3:5]))
		if typ < 20 || typ > 24 || hdr[1] != 3 {
			return f, fmt.Errorf("%w (first bytes %q)", ErrNotTLS, hdr)
		}
		if length > maxRecord {
			return f, fmt.Errorf("a record of %d bytes is over the limit", length)
		}
		if total += 5 + length; total > maxFlight {
			return f, fmt.Errorf("the server sent more than %d bytes before its certificate", maxFlight)
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(r, body); err != nil {
			return f, err
		}
		switch {
		case typ == 20: // change_cipher_spec (compatibility): ignore
			continue
		case typ == 21 && dec == nil:
			if len(body) < 2 {
				return f, errors.New("a truncated alert")
			}
			f.Alert = &Alert{Level: body[0], Description: body[1]}
			return f, nil
		case typ == 22 && dec == nil:
			hs.Write(body)
		case typ == 23 && dec != nil:
			plain, inner, err := dec.open(hdr, body)
			if err != nil {
				return f, err
			}
			if inner == 21 {
				if len(plain) >= 2 {
					f.Alert = &Alert{Level: plain[0], Description: plain[1]}
				}
				return f, nil
			}
			if inner != 22 {
				return f, fmt.Errorf("record type %d inside the encrypted handshake", inner)
			}
			hs.Write(plain)
		default:
			return f, fmt.Errorf("record type %d out of place", typ)
		}
		for hs.Len() >= 4 {
			b := hs.Bytes()
			n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
			if n > maxHandshake {
				return f, fmt.Errorf("a handshake message of %d bytes is over the limit", n)
			}
			if hs.Len() < 4+n {
				break
			}
			msg := append([]byte(nil), b[:4+n]...)
			hs.Next(4 + n)
			switch msg[0] {
			case 2: // server_hello
				if dec != nil {
					return f, errors.New("a second ServerHello")
				}
				share, err := serverHello13(msg[4:], f)
				if err != nil {
					return f, err
				}
				secret, err := key.ECDH(share)
				if err != nil {
					return f, fmt.Errorf("the server's key share: %v", err)
				}
				transcript = append(transcript, msg...)
				if f.keys, err = newSchedule(f.Suite, secret, transcript); err != nil {
					return f, err
				}
				dec = f.keys.server
				if hs.Len() > 0 {
					return f, errors.New("plaintext handshake data after the ServerHello")
				}
				continue
			case 13: // certificate_request
				f.CertRequest = true
				c := &cursor{b: msg[4:]}
				f.reqContext = append([]byte(nil), c.take(c.u8())...)
			case 11: // certificate
				if err := certificates13(msg[4:], f); err != nil {
					return f, err
				}
			case 8, 15: // encrypted_extensions, certificate_verify
			case 20: // finished: the end of the server's flight
				transcript = append(transcript, msg...)
				f.Done = true
				return f, nil
			default:
				return f, fmt.Errorf("handshake message %d in the server's flight", msg[0])
			}
			transcript = append(transcript, msg...)
			if dec == nil {
				return f, errors.New("no ServerHello")
			}
		}
	}
}

// serverHello13 reads a TLS 1.3 ServerHello: the suite, and the X25519
// key share it returns.
func serverHello13(msg []byte, f *Flight13) (*ecdh.PublicKey, error) {
	c := &cursor{b: msg}
	c.u16()
	random := c.take(32)
	c.take(c.u8())
	f.Suite = uint16(c.u16())
	c.u8()
	ext := &cursor{b: c.take(c.u16())}
	if c.err != nil {
		return nil, fmt.Errorf("ServerHello: %w", c.err)
	}
	if bytes.Equal(random, hrrRandom) {
		return nil, errors.New("the server asked for another key share (HelloRetryRequest)")
	}
	var share []byte
	version := uint16(0)
	for ext.err == nil && len(ext.b) >= 4 {
		typ := ext.u16()
		data := ext.take(ext.u16())
		switch {
		case typ == 43 && len(data) == 2:
			version = binary.BigEndian.Uint16(data)
		case typ == 51 && len(data) >= 4:
			if group := binary.BigEndian.Uint16(data); group != 29 {
				return nil, fmt.Errorf("the server's key share is for group %d, not X25519", group)
			}
			share = data[4:]
		}
	}
	if version != VersionTLS13 || share == nil {
		return nil, errors.New("the ServerHello is not TLS 1.3 with a key share")
	}
	return ecdh.X25519().NewPublicKey(share)
}

// certificates13 reads a TLS 1.3 Certificate message.
func certificates13(msg []byte, f *Flight13) error {
	certs, err := certificateList(msg, true)
	f.Certificates = append(f.Certificates, certs...)
	return err
}

// recordKeys decrypts the server's handshake records.
type recordKeys struct {
	aead cipher.AEAD
	iv   []byte
	seq  uint64
}

// nonce is the next record's nonce: the IV with the sequence number.
func (k *recordKeys) nonce() []byte {
	nonce := append([]byte(nil), k.iv...)
	for i := 0; i < 8; i++ {
		nonce[len(nonce)-1-i] ^= byte(k.seq >> (8 * i))
	}
	k.seq++
	return nonce
}

func (k *recordKeys) seal(hdr, inner []byte) ([]byte, error) {
	return k.aead.Seal(nil, k.nonce(), inner, hdr), nil
}

func (k *recordKeys) open(hdr, body []byte) ([]byte, byte, error) {
	plain, err := k.aead.Open(nil, k.nonce(), body, hdr)
	if err != nil {
		return nil, 0, errors.New("a handshake record does not decrypt")
	}
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, errors.New("an encrypted record without a content type")
	}
	return plain[:i], plain[i], nil
}

// Suites13Own are the TLS 1.3 suites our own hello can read: the AES ones
// (ChaCha20 needs a package outside the standard library, and crypto/tls
// speaks it anyway).
var Suites13Own = []uint16{0x1301, 0x1302, 0x1304, 0x1305}

// schedule is the TLS 1.3 key schedule (RFC 8446 section 7.1) of one
// connection, as far as our own hello needs it.
type schedule struct {
	newHash    func() hash.Hash
	keyLen     int
	ccmTag     int    // 0: AES-GCM
	handshake  []byte // the handshake secret
	server     *recordKeys
	client     *recordKeys
	transcript []byte // every handshake message so far
}

func (k *schedule) sum(b []byte) []byte {
	h := k.newHash()
	h.Write(b)
	return h.Sum(nil)
}

// traffic makes the record keys of a traffic secret.
func (k *schedule) traffic(secret []byte) (*recordKeys, error) {
	key, err := expandLabel(k.newHash, secret, "key", nil, k.keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(k.newHash, secret, "iv", nil, 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	var aead cipher.AEAD = &ccm{block: block, tag: k.ccmTag}
	if k.ccmTag == 0 {
		if aead, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	return &recordKeys{aead: aead, iv: iv}, nil
}

// newSchedule derives the handshake traffic keys from the ECDHE secret
// and the transcript up to the ServerHello.
func newSchedule(suite uint16, secret, transcript []byte) (*schedule, error) {
	k := &schedule{newHash: sha256.New, keyLen: 16}
	switch suite {
	case 0x1301:
	case 0x1302:
		k.newHash, k.keyLen = sha512.New384, 32
	case 0x1304:
		k.ccmTag = 16
	case 0x1305:
		k.ccmTag = 8
	default:
		return nil, fmt.Errorf("the server chose %s, which our own hello cannot read", Suites().ByCode(suite).Name)
	}
	size := k.newHash().Size()
	early, err := hkdf.Extract(k.newHash, make([]byte, size), nil)
	if err != nil {
		return nil, err
	}
	derived, err := expandLabel(k.newHash, early, "derived", k.sum(nil), size)
	if err != nil {
		return nil, err
	}
	if k.handshake, err = hkdf.Extract(k.newHash, secret, derived); err != nil {
		return nil, err
	}
	for _, side := range []struct {
		label string
		keys  **recordKeys
	}{{"s hs traffic", &k.server}, {"c hs traffic", &k.client}} {
		secret, err := expandLabel(k.newHash, k.handshake, side.label, k.sum(transcript), size)
		if err != nil {
			return nil, err
		}
		if *side.keys, err = k.traffic(secret); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// serverApplication is the server's first application traffic keys,
// from the transcript up to its Finished.
func (k *schedule) serverApplication() (*recordKeys, error) {
	size := k.newHash().Size()
	derived, err := expandLabel(k.newHash, k.handshake, "derived", k.sum(nil), size)
	if err != nil {
		return nil, err
	}
	master, err := hkdf.Extract(k.newHash, make([]byte, size), derived)
	if err != nil {
		return nil, err
	}
	secret, err := expandLabel(k.newHash, master, "s ap traffic", k.sum(k.transcript), size)
	if err != nil {
		return nil, err
	}
	return k.traffic(secret)
}

// NoCertificate13 is our answer to a TLS 1.3 CertificateRequest without a
// certificate, encrypted with the client's handshake keys: an empty
// Certificate, then a second Certificate where the server expects our
// Finished. A server that requires a certificate refuses the empty one
// (certificate_required); one that does not refuses the second message
// (unexpected_message). As NoCertificate for TLS 1.2.
func (f *Flight13) NoCertificate13() ([]byte, error) {
	if f.keys == nil || !f.Done || !f.CertRequest {
		return nil, errors.New("no complete flight with a CertificateRequest")
	}
	body := append([]byte{byte(len(f.reqContext))}, f.reqContext...)
	body = append(body, 0, 0, 0) // no certificates
	msg := append([]byte{11, 0, 0, byte(len(body))}, body...)
	inner := append(append(msg, msg...), 22)
	hdr := []byte{23, 3, 3, byte((len(inner) + f.keys.client.aead.Overhead()) >> 8), byte(len(inner) + f.keys.client.aead.Overhead())}
	sealed, err := f.keys.client.seal(hdr, inner)
	if err != nil {
		return nil, err
	}
	ccs := []byte{20, 3, 3, 0, 1, 1} // (middlebox compatibility, as clients send it)
	return append(append(ccs, hdr...), sealed...), nil
}

// ReadAlert13 reads the server's answer to NoCertificate13: the alert it
// sends, decrypted with its application keys (or, for a server that has
// not switched yet, its handshake keys); nil when it sends none.
func (f *Flight13) ReadAlert13(r io.Reader) (*Alert, error) {
	app, err := f.keys.serverApplication()
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, 5)
	for range maxWarnings {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return nil, err
		}
		length := int(binary.BigEndian.Uint16(hdr[3:5]))
		if length > maxRecord {
			return nil, fmt.Errorf("a record of %d bytes is over the limit", length)
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		switch hdr[0] {
		case 21: // a plaintext alert
			if len(body) >= 2 {
				return &Alert{Level: body[0], Description: body[1]}, nil
			}
			return nil, errors.New("a truncated alert")
		case 23:
		default:
			continue
		}
		plain, inner, err := app.open(hdr, body)
		if err != nil {
			app.seq--
			if plain, inner, err = f.keys.server.open(hdr, body); err != nil {
				return nil, err
			}
		}
		if inner == 21 && len(plain) >= 2 {
			return &Alert{Level: plain[0], Description: plain[1]}, nil
		}
	}
	return nil, errors.New("no alert")
}

// expandLabel is HKDF-Expand-Label.
func expandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) ([]byte, error) {
	info := []byte{byte(length >> 8), byte(length), byte(6 + len(label))}
	info = append(info, "tls13 "+label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	return hkdf.Expand(h, secret, string(info), length)
}

// ccm is AES-CCM (RFC 3610) with a 12-byte nonce (L = 3), as TLS 1.3's
// CCM suites use it; only Open is needed.
type ccm struct {
	block cipher.Block
	tag   int
}

func (c *ccm) NonceSize() int { return 12 }
func (c *ccm) Overhead() int  { return c.tag }

// Seal encrypts plaintext (our answer to a CertificateRequest, under a
// CCM suite). It panics on a nonce of the wrong size, as cipher.AEAD may.
func (c *ccm) Seal(dst, nonce, plaintext, aad []byte) []byte {
	out := make([]byte, len(plaintext))
	c.ctr(nonce).XORKeyStream(out, plaintext)
	out = append(out, c.mac(nonce, plaintext, aad)...)
	return append(dst, out...)
}

// ctr is the keystream from counter block 1 (block 0 masks the tag).
func (c *ccm) ctr(nonce []byte) cipher.Stream {
	if len(nonce) != 12 {
		panic("tlswire: ccm nonce of the wrong size")
	}
	ctr := make([]byte, 16)
	ctr[0] = 2 // L - 1
	copy(ctr[1:], nonce)
	ctr[15] = 1
	return cipher.NewCTR(c.block, ctr)
}

func (c *ccm) Open(dst, nonce, ciphertext, aad []byte) ([]byte, error) {
	if len(nonce) != 12 || len(ciphertext) < c.tag || len(ciphertext)-c.tag >= 1<<24 {
		return nil, errors.New("ccm: bad input")
	}
	msg, tag := ciphertext[:len(ciphertext)-c.tag], ciphertext[len(ciphertext)-c.tag:]
	plain := make([]byte, len(msg))
	c.ctr(nonce).XORKeyStream(plain, msg)
	if subtle.ConstantTimeCompare(c.mac(nonce, plain, aad), tag) != 1 {
		return nil, errors.New("ccm: message authentication failed")
	}
	return append(dst, plain...), nil
}

// mac is the CBC-MAC over B0, the associated data and the message,
// masked with counter block 0: the tag.
func (c *ccm) mac(nonce, plain, aad []byte) []byte {
	ctr := make([]byte, 16)
	ctr[0] = 2 // L - 1
	copy(ctr[1:], nonce)
	s0 := make([]byte, 16)
	c.block.Encrypt(s0, ctr)
	mac := make([]byte, 16)
	b0 := make([]byte, 16)
	b0[0] = 0x40 | byte((c.tag-2)/2)<<3 | 2
	copy(b0[1:], nonce)
	b0[13], b0[14], b0[15] = byte(len(plain)>>16), byte(len(plain)>>8), byte(len(plain))
	c.block.Encrypt(mac, b0)
	blocks := func(data []byte) {
		for len(data) > 0 {
			n := min(16, len(data))
			subtle.XORBytes(mac[:n], mac[:n], data[:n])
			c.block.Encrypt(mac, mac)
			data = data[n:]
		}
	}
	blocks(append([]byte{byte(len(aad) >> 8), byte(len(aad))}, aad...))
	blocks(plain)
	subtle.XORBytes(mac, mac, s0)
	return mac[:c.tag]
}
