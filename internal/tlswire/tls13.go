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
	Alert        *Alert   // a plaintext alert instead of a ServerHello
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
				if dec, err = handshakeKeys(f.Suite, secret, transcript); err != nil {
					return f, err
				}
				if hs.Len() > 0 {
					return f, errors.New("plaintext handshake data after the ServerHello")
				}
			case 13: // certificate_request
				f.CertRequest = true
			case 11: // certificate
				if err := certificates13(msg[4:], f); err != nil {
					return f, err
				}
				return f, nil
			case 8: // encrypted_extensions
			default:
				return f, fmt.Errorf("handshake message %d before the certificate", msg[0])
			}
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
	c := &cursor{b: msg}
	c.take(c.u8()) // certificate_request_context
	list := &cursor{b: c.take(c.u24())}
	for list.err == nil && len(list.b) > 0 {
		der := list.take(list.u24())
		list.take(list.u16()) // extensions
		if list.err != nil {
			break
		}
		if len(f.Certificates) >= maxCerts {
			return fmt.Errorf("more than %d certificates in the chain", maxCerts)
		}
		f.Certificates = append(f.Certificates, der)
	}
	if c.err != nil || list.err != nil {
		return errors.New("malformed Certificate message")
	}
	return nil
}

// recordKeys decrypts the server's handshake records.
type recordKeys struct {
	aead cipher.AEAD
	iv   []byte
	seq  uint64
}

func (k *recordKeys) open(hdr, body []byte) ([]byte, byte, error) {
	nonce := append([]byte(nil), k.iv...)
	for i := 0; i < 8; i++ {
		nonce[len(nonce)-1-i] ^= byte(k.seq >> (8 * i))
	}
	k.seq++
	plain, err := k.aead.Open(nil, nonce, body, hdr)
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

// handshakeKeys derives the server's handshake traffic keys (RFC 8446
// section 7.1) from the ECDHE secret and the transcript up to the
// ServerHello.
func handshakeKeys(suite uint16, secret, transcript []byte) (*recordKeys, error) {
	newHash, keyLen, tag := sha256.New, 16, 16
	switch suite {
	case 0x1301, 0x1304:
	case 0x1302:
		newHash, keyLen = sha512.New384, 32
	case 0x1305:
		tag = 8
	default:
		return nil, fmt.Errorf("the server chose %s, which our own hello cannot read", Suites().ByCode(suite).Name)
	}
	size := newHash().Size()
	sum := func(b []byte) []byte { h := newHash(); h.Write(b); return h.Sum(nil) }
	early, err := hkdf.Extract(newHash, make([]byte, size), nil)
	if err != nil {
		return nil, err
	}
	derived, err := expandLabel(newHash, early, "derived", sum(nil), size)
	if err != nil {
		return nil, err
	}
	hsSecret, err := hkdf.Extract(newHash, secret, derived)
	if err != nil {
		return nil, err
	}
	server, err := expandLabel(newHash, hsSecret, "s hs traffic", sum(transcript), size)
	if err != nil {
		return nil, err
	}
	key, err := expandLabel(newHash, server, "key", nil, keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(newHash, server, "iv", nil, 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	var aead cipher.AEAD
	if suite == 0x1301 || suite == 0x1302 {
		aead, err = cipher.NewGCM(block)
	} else {
		aead = &ccm{block: block, tag: tag}
	}
	return &recordKeys{aead: aead, iv: iv}, err
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
func (c *ccm) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	panic("tlswire: ccm.Seal is not needed")
}

func (c *ccm) Open(dst, nonce, ciphertext, aad []byte) ([]byte, error) {
	if len(nonce) != 12 || len(ciphertext) < c.tag || len(ciphertext)-c.tag >= 1<<24 {
		return nil, errors.New("ccm: bad input")
	}
	msg, tag := ciphertext[:len(ciphertext)-c.tag], ciphertext[len(ciphertext)-c.tag:]
	ctr := make([]byte, 16)
	ctr[0] = 2 // L - 1
	copy(ctr[1:], nonce)
	s0 := make([]byte, 16)
	c.block.Encrypt(s0, ctr)
	plain := make([]byte, len(msg))
	ctr[15] = 1
	cipher.NewCTR(c.block, ctr).XORKeyStream(plain, msg)
	// CBC-MAC over B0, the associated data and the message.
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
	if subtle.ConstantTimeCompare(mac[:c.tag], tag) != 1 {
		return nil, errors.New("ccm: message authentication failed")
	}
	return append(dst, plain...), nil
}
