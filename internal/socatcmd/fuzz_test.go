package socatcmd

import (
	"strings"
	"testing"
)

// FuzzParseCommandLine: any input ends in a Command or an error, never a
// panic, and the facts of a parsed command can always be derived.
func FuzzParseCommandLine(f *testing.F) {
	for _, e := range readCorpus(f) {
		f.Add(e.cmd)
	}
	f.Add("socat 'SYSTEM:echo (((' -")
	f.Add("socat -lf")
	f.Add(`socat "a\` + "\x00" + `" -`)
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseCommandLine(line)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a reason")
			}
			return
		}
		_ = c.String()
		for _, s := range c.Singles() {
			f := s.Facts(c.Globals.PreferFamily)
			_ = f.ListenPort()
			_ = ProgramBase(f.Command)
		}
	})
}

// FuzzSplitExec: systemd ExecStart= splitting never panics.
func FuzzSplitExec(f *testing.F) {
	for _, s := range []string{`-/usr/bin/socat -d -d TCP-L:1,fork "TCP:a:1"`, `@/bin/socat socat 'x y' \"`, `!!+:%%i`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		words, err := SplitExec(v)
		if err == nil && len(words) == 0 {
			t.Fatal("no words and no error")
		}
		rest := strings.TrimLeft(strings.TrimLeft(v, " \t\n\r"), "-@:+!")
		if strings.Trim(rest, " \t\n\r") == "" && err == nil { // only blanks and prefixes
			t.Fatal("empty accepted")
		}
	})
}

// Any unit file: a unit or an error, never a panic.
func FuzzParseUnit(f *testing.F) {
	for _, s := range []string{
		"[Service]\nExecStart=/usr/bin/socat TCP-LISTEN:80,fork TCP:a:80\n",
		"[Service]\nUser=nobody\nEnvironment=\"A=1\" B=2\nExecStart=-/usr/bin/socat ${A} $B \\\n  -\n",
		"[Service]\nExecStart=\nExecStart=@/usr/bin/socat socat - -\n",
		"[Unit]\n[Service]\nExecStart=\"unterminated\n",
		"[Service]\nEnvironmentFile=-/nonexistent\nWorkingDirectory=~\nExecStart=socat '\\x41' -\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUnit(s)
		if err == nil {
			_, _ = u.SocatCommand()
		}
	})
}
