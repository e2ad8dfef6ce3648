package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TLSPair is a certificate and its P-256 key, parsed and as PEM: what the
// TLS tests give serve in files and present from clients.
type TLSPair struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	DER     []byte
	CertPEM []byte
	KeyPEM  []byte // PKCS #8
}

// TLS is the pair as a client or a server presents it.
func (p *TLSPair) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{p.DER}, PrivateKey: p.Key, Leaf: p.Cert}
}

// Write writes NAME.crt (0644) and NAME.key (0600) into dir, as an operator
// installs them, and returns their paths.
func (p *TLSPair) Write(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, p.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, p.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

var (
	serialMu sync.Mutex
	serial   = big.NewInt(time.Now().UnixNano())
)

// IssueCert signs tmpl with parent (tmpl itself when parent is nil) for a
// new P-256 key. It sets a serial number unique in this process and, when
// tmpl leaves them zero, a validity from a minute ago to an hour from now.
func IssueCert(t testing.TB, parent *TLSPair, tmpl *x509.Certificate) *TLSPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serialMu.Lock()
	serial.Add(serial, big.NewInt(1))
	tmpl.SerialNumber = new(big.Int).Set(serial)
	serialMu.Unlock()
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Minute)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(time.Hour)
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &TLSPair{Cert: cert, Key: key, DER: der,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}
}

// NewCA is a self-signed certificate authority named name.
func NewCA(t testing.TB, name string) *TLSPair {
	t.Helper()
	return IssueCert(t, nil, &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
}

// NewServerCert is a server certificate signed by ca (self-signed when ca
// is nil) for localhost and 127.0.0.1, with common name cn.
func NewServerCert(t testing.TB, ca *TLSPair, cn string) *TLSPair {
	t.Helper()
	return IssueCert(t, ca, &x509.Certificate{Subject: pkix.Name{CommonName: cn},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
}

// NewClientCert is a client certificate for subject signed by ca.
func NewClientCert(t testing.TB, ca *TLSPair, subject pkix.Name) *TLSPair {
	t.Helper()
	return IssueCert(t, ca, &x509.Certificate{Subject: subject, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}
