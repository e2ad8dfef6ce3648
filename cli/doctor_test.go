package cli_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// doctorLine finds doctor's line for check that contains want, and fails
// the test unless it has the status given.
func doctorLine(t *testing.T, r result, status, check, want string) {
	t.Helper()
	label := status
	if status != "ok" {
		label = strings.ToUpper(status)
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + ` +` + regexp.QuoteMeta(check) + `: .*` + regexp.QuoteMeta(want))
	if !re.MatchString(r.Stdout) {
		t.Errorf("doctor: no %q line for %s saying %q:\n%v", label, check, want, r)
	}
}

// freeAddr is a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// doctor runs doctor in process over e's Barman with our configuration
// toml (written with mode 0600 unless mode says otherwise).
func (e *env) doctor(t *testing.T, toml string, mode os.FileMode, args ...string) (result, string) {
	t.Helper()
	config := writeFile(t, t.TempDir(), "pg-backup-api.toml", toml, mode)
	return e.run(t, append([]string{"--config", config, "doctor"}, args...)...), config
}

// listenTOML keeps doctor off the default port, which other tests' serve
// processes or the machine may hold.
func listenTOML(t *testing.T) string {
	return fmt.Sprintf("[serve]\nlisten = %q\n", freeAddr(t))
}

func TestDoctorAllGood(t *testing.T) {
	e := newEnv(t, false)
	r, config := e.doctor(t, listenTOML(t), 0o600)
	if r.Code != cli.ExitOK {
		t.Fatalf("doctor on a sound setup: want exit 0, got %v", r)
	}
	doctorLine(t, r, "ok", "config", config+" is read: its syntax and keys are valid")
	doctorLine(t, r, "ok", "barman config", e.Conf+" is read as Barman reads it")
	doctorLine(t, r, "ok", "barman_home", e.Home+" is writable by")
	doctorLine(t, r, "ok", "barman", "runs Barman 3.17.0")
	doctorLine(t, r, "ok", "remotes", "none configured")
	doctorLine(t, r, "ok", "serve.listen", "is free for serve")
	doctorLine(t, r, "ok", "serve tls", "plain HTTP")
	if strings.Contains(r.Stdout, "FAIL") || strings.Contains(r.Stdout, "WARN") {
		t.Errorf("doctor reports a problem on a sound setup:\n%s", r.Stdout)
	}

	t.Run("json", func(t *testing.T) {
		r, _ := e.doctor(t, listenTOML(t), 0o600, "-o", "json")
		var out struct {
			OK     bool `json:"ok"`
			Checks []struct{ Check, Status, Message string }
		}
		decodeJSON(t, r.Stdout, &out)
		if r.Code != cli.ExitOK || !out.OK || len(out.Checks) < 7 {
			t.Fatalf("doctor -o json: %v", r)
		}
		for _, c := range out.Checks {
			if c.Status != "ok" || c.Check == "" || c.Message == "" {
				t.Errorf("doctor -o json: check %+v", c)
			}
		}
	})
}

func TestDoctorConfigFiles(t *testing.T) {
	e := newEnv(t, false)
	failed := func(t *testing.T, r result) {
		t.Helper()
		if r.Code != cli.ExitUnavailable || !strings.Contains(r.Msg, "checks failed") {
			t.Errorf("want exit %d and a count of failed checks, got %v", cli.ExitUnavailable, r)
		}
	}
	t.Run("syntax", func(t *testing.T) {
		r, config := e.doctor(t, "[serve]\nlisten = \n", 0o600)
		failed(t, r)
		doctorLine(t, r, "fail", "config", config+":2:")
		// The other checks still run.
		doctorLine(t, r, "ok", "barman", "runs Barman 3.17.0")
	})
	t.Run("unknown key", func(t *testing.T) {
		r, config := e.doctor(t, listenTOML(t)+"lissten = \"x\"\n", 0o600)
		failed(t, r)
		doctorLine(t, r, "fail", "config", config+":3: unknown key serve.lissten (did you mean serve.listen?)")
	})
	t.Run("secrets readable by others", func(t *testing.T) {
		srv := startServe(t, e, "")
		r, config := e.doctor(t, listenTOML(t)+"[remotes.b1]\nurl = \""+srv.URL+"\"\ntoken = \"pgba_x\"\n", 0o644)
		failed(t, r)
		doctorLine(t, r, "fail", "config", config+" holds secrets (remotes.b1.token) and every user of this machine may read it (mode 0644): chmod o-rwx")
	})
	t.Run("search order", func(t *testing.T) {
		dir := t.TempDir()
		xdg := filepath.Join(dir, "xdg")
		system := writeFile(t, dir, "etc/pg-backup-api.toml", "", 0o644)
		cli.SetSystemConfigPath(t, system)
		t.Setenv(cli.EnvConfig, "")
		os.Unsetenv(cli.EnvConfig)
		t.Setenv("XDG_CONFIG_HOME", xdg)
		user := filepath.Join(xdg, "pg-backup-api", "config.toml")
		r := e.run(t, "doctor")
		doctorLine(t, r, "ok", "config", user+": not present")
		doctorLine(t, r, "ok", "config", system+" is read")
		writeFile(t, filepath.Dir(user), "config.toml", listenTOML(t), 0o600)
		r = e.run(t, "doctor")
		doctorLine(t, r, "ok", "config", user+" is read")
		doctorLine(t, r, "warn", "config", system+" exists but is not read: "+user+" comes first in the search order")
		if r.Code != cli.ExitOK {
			t.Errorf("a warning alone: want exit 0, got %v", r)
		}
		// ~/.config/pg-backup-api.toml is the name operators guess; it is
		// not read, and doctor says where the file belongs.
		for _, guess := range []string{filepath.Join(xdg, "pg-backup-api.toml"), filepath.Join(xdg, "pg-backup-api", "pg-backup-api.toml")} {
			writeFile(t, filepath.Dir(guess), filepath.Base(guess), listenTOML(t), 0o600)
			r = e.run(t, "doctor")
			doctorLine(t, r, "warn", "config", guess+" is never read: a user's configuration file is "+user+"; move it there")
			if r.Code != cli.ExitOK {
				t.Errorf("a warning alone: want exit 0, got %v", r)
			}
		}
	})
}

func TestDoctorBarman(t *testing.T) {
	t.Run("broken section", func(t *testing.T) {
		e := newEnv(t, false)
		conf, err := os.ReadFile(e.Conf)
		if err != nil {
			t.Fatal(err)
		}
		conf = append(conf, "\n[db_broken]\ndescription = 100% full\n"...)
		if err := os.WriteFile(e.Conf, conf, 0o644); err != nil {
			t.Fatal(err)
		}
		r, _ := e.doctor(t, listenTOML(t), 0o600)
		if r.Code != cli.ExitUnavailable {
			t.Errorf("want exit %d, got %v", cli.ExitUnavailable, r)
		}
		doctorLine(t, r, "fail", "barman config", "section [db_broken] cannot be read, so requests for it are refused: "+e.Conf+":")
	})
	t.Run("no configuration", func(t *testing.T) {
		e := newEnv(t, false)
		missing := filepath.Join(e.Root, "nowhere.conf")
		config := writeFile(t, t.TempDir(), "c.toml", listenTOML(t), 0o600)
		r := e.run(t, "--config", config, "doctor", "--barman-config", missing)
		doctorLine(t, r, "fail", "barman config", missing)
		doctorLine(t, r, "fail", "barman_home", "not checked")
	})
	t.Run("barman_home missing", func(t *testing.T) {
		e := newEnv(t, false)
		if err := os.RemoveAll(e.Home); err != nil {
			t.Fatal(err)
		}
		r, _ := e.doctor(t, listenTOML(t), 0o600)
		doctorLine(t, r, "fail", "barman_home", e.Home+" (barman_home in "+e.Conf+"): no such file or directory; create it")
	})
	t.Run("barman command", func(t *testing.T) {
		e := newEnv(t, false)
		r, _ := e.doctor(t, listenTOML(t)+"", 0o600, "--barman-command", filepath.Join(e.Root, "no-barman"))
		if r.Code != cli.ExitUnavailable {
			t.Errorf("want exit %d, got %v", cli.ExitUnavailable, r)
		}
		doctorLine(t, r, "fail", "barman", "no-barman -v\": ")
		doctorLine(t, r, "fail", "barman", "install Barman, or set barman_command")
	})
}

func TestDoctorRemotes(t *testing.T) {
	e := newEnv(t, false)
	serveConfig := writeFile(t, e.Root, "serve.toml", tokenTOML("ci", ciTokenSecret), 0o600)
	srv := startServe(t, e, serveConfig)
	toml := listenTOML(t) +
		"[remotes.good]\nurl = \"" + srv.URL + "\"\ntoken = \"" + ciTokenSecret + "\"\n" +
		"[remotes.badtoken]\nurl = \"" + srv.URL + "\"\ntoken = \"pgba_wrong\"\n" +
		"[remotes.down]\nurl = \"http://" + freeAddr(t) + "\"\n"
	r, _ := e.doctor(t, toml, 0o600)
	if r.Code != cli.ExitUnavailable {
		t.Errorf("want exit %d, got %v", cli.ExitUnavailable, r)
	}
	doctorLine(t, r, "ok", "remotes.good", srv.URL+" answers and accepts our credentials")
	doctorLine(t, r, "fail", "remotes.badtoken", "401 Unauthorized")
	doctorLine(t, r, "fail", "remotes.badtoken", srv.URL+" answers, so check remotes.badtoken.token")
	if strings.Contains(r.Stdout, "check --token") {
		t.Errorf("doctor's remote line gives the command line's hint (--token) as well as its own:\n%s", r.Stdout)
	}
	doctorLine(t, r, "fail", "remotes.down", "is serve running there")
}

func TestDoctorListen(t *testing.T) {
	e := newEnv(t, false)
	t.Run("held by another program", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				conn.Close()
			}
		}()
		r, _ := e.doctor(t, fmt.Sprintf("[serve]\nlisten = %q\n", ln.Addr().String()), 0o600)
		if r.Code != cli.ExitUnavailable {
			t.Errorf("want exit %d, got %v", cli.ExitUnavailable, r)
		}
		doctorLine(t, r, "fail", "serve.listen", ln.Addr().String()+" is in use by a program that does not answer as pg-backup-api")
	})
	t.Run("held by serve", func(t *testing.T) {
		srv := startServe(t, e, "")
		addr := strings.TrimPrefix(srv.URL, "http://")
		r, _ := e.doctor(t, fmt.Sprintf("[serve]\nlisten = %q\n", addr), 0o600)
		if r.Code != cli.ExitOK {
			t.Errorf("want exit 0, got %v", r)
		}
		doctorLine(t, r, "ok", "serve.listen", addr+" is in use by a pg-backup-api serve that answers")
	})
	t.Run("not an address", func(t *testing.T) {
		r, _ := e.doctor(t, "[serve]\nlisten = \"127.0.0.1\"\n", 0o600)
		doctorLine(t, r, "fail", "serve.listen", "serve could not listen on 127.0.0.1: ")
	})
}

// doctorCert writes a self-signed certificate valid from notBefore to
// notAfter, and its key, into dir.
func doctorCert(t *testing.T, dir, name string, notBefore, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	pair := testenv.IssueCert(t, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return pair.Write(t, dir, name)
}

func TestDoctorTLS(t *testing.T) {
	e := newEnv(t, false)
	dir := t.TempDir()
	now := time.Now()
	day := 24 * time.Hour
	tlsTOML := func(cert, key string) string {
		return fmt.Sprintf("[[serve.tokens]]\nname = \"ci\"\nsha256 = %q\n[serve]\nlisten = %q\ntls_cert = %q\ntls_key = %q\n",
			strings.Repeat("0", 64), freeAddr(t), cert, key)
	}
	goodCert, goodKey := doctorCert(t, dir, "good", now.Add(-day), now.Add(100*day+time.Hour))
	soonCert, soonKey := doctorCert(t, dir, "soon", now.Add(-day), now.Add(5*day+time.Hour))
	oldCert, oldKey := doctorCert(t, dir, "old", now.Add(-30*day), now.Add(-2*day))
	for _, tt := range []struct {
		name, cert, key, status, want string
		code                          int
	}{
		{"valid", goodCert, goodKey, "ok", "serve.tls_cert " + goodCert + " and serve.tls_key " + goodKey + " are readable and match; 100 days left", cli.ExitOK},
		{"expires soon", soonCert, soonKey, "warn", "serve.tls_cert " + soonCert + " expires in 5 days", cli.ExitOK},
		{"expired", oldCert, oldKey, "fail", "serve.tls_cert " + oldCert + " expired on ", cli.ExitUnavailable},
		{"key of another certificate", goodCert, soonKey, "fail", "private key does not match public key; serve would refuse to start", cli.ExitUnavailable},
		{"unreadable", filepath.Join(dir, "none.crt"), goodKey, "fail", "no such file or directory", cli.ExitUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := e.doctor(t, tlsTOML(tt.cert, tt.key), 0o600)
			if r.Code != tt.code {
				t.Errorf("want exit %d, got %v", tt.code, r)
			}
			doctorLine(t, r, tt.status, "serve tls", tt.want)
		})
	}
}
