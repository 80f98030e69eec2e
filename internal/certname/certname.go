// Package certname reads the name a server certificate is for, its first
// DNS subjectAltName, from a PEM file, with encoding/asn1 alone:
// check_socat_procs --discover needs that one string, and crypto/x509
// would add a megabyte to every run of a binary that starts each minute.
// The subject's common name is not read: Go's TLS clients (the checks)
// verify names against DNS SANs only.
package certname

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"unicode/utf8"
)

var (
	oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}
)

// FromPEM returns the first DNS name of the first certificate in a PEM
// file; "" when it has none.
func FromPEM(data []byte) (string, error) {
	der, err := firstCertificate(data)
	if err != nil {
		return "", err
	}
	return FromDER(der)
}

// firstCertificate decodes the first CERTIFICATE block.
func firstCertificate(data []byte) ([]byte, error) {
	const begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
	i := bytes.Index(data, []byte(begin))
	if i < 0 {
		return nil, errors.New("no certificate in the file")
	}
	rest := data[i+len(begin):]
	j := bytes.Index(rest, []byte(end))
	if j < 0 {
		return nil, errors.New("an unterminated certificate")
	}
	b64 := bytes.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, rest[:j])
	der := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(der, b64)
	if err != nil {
		return nil, errors.New("a certificate that is not base64")
	}
	return der[:n], nil
}

type tbs struct {
	Raw        asn1.RawContent
	Version    int `asn1:"optional,explicit,default:0,tag:0"`
	Serial     asn1.RawValue
	SigAlg     asn1.RawValue
	Issuer     asn1.RawValue
	Validity   asn1.RawValue
	Subject    asn1.RawValue
	PublicKey  asn1.RawValue
	IssuerUID  asn1.BitString `asn1:"optional,tag:1"`
	SubjectUID asn1.BitString `asn1:"optional,tag:2"`
	Extensions []extension    `asn1:"optional,explicit,tag:3"`
}

type extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool `asn1:"optional"`
	Value    []byte
}

// FromDER is FromPEM of one DER certificate.
func FromDER(der []byte) (string, error) {
	var cert struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		return "", errors.New("not a certificate")
	}
	var t tbs
	if _, err := asn1.Unmarshal(cert.TBS.FullBytes, &t); err != nil {
		return "", errors.New("not a certificate")
	}
	for _, e := range t.Extensions {
		if !e.ID.Equal(oidSAN) {
			continue
		}
		var names []asn1.RawValue
		if _, err := asn1.Unmarshal(e.Value, &names); err != nil {
			continue
		}
		for _, n := range names {
			if n.Class == asn1.ClassContextSpecific && n.Tag == 2 && utf8.Valid(n.Bytes) && len(n.Bytes) > 0 {
				return string(n.Bytes), nil // dNSName
			}
		}
	}
	return "", nil
}
