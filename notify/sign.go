package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook delivery.
const (
	HeaderSignature = "X-Pg-Backup-Api-Signature"
	// HeaderSignatureV1 binds the body to the time it was sent and to its
	// idempotency key, so a receiver can refuse a delivery replayed later
	// (HeaderSignature, kept for receivers written for it, cannot tell).
	HeaderSignatureV1 = "X-Pg-Backup-Api-Signature-V1"
	HeaderDelivery    = "X-Pg-Backup-Api-Delivery"
	HeaderEvent       = "X-Pg-Backup-Api-Event"
	HeaderIdempotency = "Idempotency-Key"
)

// Sign returns the X-Pg-Backup-Api-Signature value of body: "sha256=" and
// the hex HMAC-SHA256 of the body keyed with the webhook's secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify is what a receiver does: it checks a signature header against the
// body in constant time.
func Verify(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// SignV1 returns the X-Pg-Backup-Api-Signature-V1 value of a delivery sent
// at sent with idempotency key key: "t=<unix seconds>,v1=<hex>", where hex
// is the HMAC-SHA256, keyed with the webhook's secret, of
// "<unix seconds>.<key>.<body>".
func SignV1(secret string, sent time.Time, key string, body []byte) string {
	t := strconv.FormatInt(sent.Unix(), 10)
	return "t=" + t + ",v1=" + hex.EncodeToString(macV1(secret, t, key, body))
}

func macV1(secret, t, key string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t + "." + key + "."))
	mac.Write(body)
	return mac.Sum(nil)
}

// VerifyV1 is what a receiver does with X-Pg-Backup-Api-Signature-V1: it
// checks the signature over the body and the Idempotency-Key header in
// constant time, and refuses a delivery signed more than tolerance before
// (or after) now, which a replay of a captured request would be.
func VerifyV1(secret string, body []byte, key, header string, now time.Time, tolerance time.Duration) error {
	var t, v1 string
	for _, part := range strings.Split(header, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch name {
		case "t":
			t = value
		case "v1":
			v1 = value
		}
	}
	sec, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v1 == "" {
		return fmt.Errorf("signature header %q is not \"t=<unix seconds>,v1=<hex>\"", header)
	}
	got, err := hex.DecodeString(v1)
	if err != nil || !hmac.Equal(got, macV1(secret, t, key, body)) {
		return errors.New("signature does not match the body and idempotency key with this secret")
	}
	if age := now.Sub(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("signed at %s, %s from now: outside the tolerance of %s (a replay, or a clock off)", time.Unix(sec, 0).UTC().Format(time.RFC3339), age.Round(time.Second), tolerance)
	}
	return nil
}
