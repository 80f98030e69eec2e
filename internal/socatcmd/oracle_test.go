package socatcmd

import (
	"context"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/testlab"
)

var systemCall = regexp.MustCompile(`(?m) D system\("(.*)"\)$`)

// TestLexerAgainstSocat uses the real socat as the oracle of its own
// lexer: at -d -d -d -d socat logs the exact string it hands to system()
// for a SYSTEM: address, which must equal the parameter our parser found.
func TestLexerAgainstSocat(t *testing.T) {
	testlab.Need(t, "socat")
	cases := []string{
		`SYSTEM:echo plain`,
		`SYSTEM:echo 'a:b'`,
		`SYSTEM:echo "a,b":ignored`,
		`SYSTEM:echo 'it''s'`,
		`SYSTEM:echo a\,b\:c`,
		`SYSTEM:echo [x,y]:z`,
		`SYSTEM:echo {p:q,r}`,
		`SYSTEM:echo "outer 'inner' (keep, this)"`,
		`SYSTEM:echo tab\there`,
		`SYSTEM:printf '%s|' one two`,
		`SYSTEM:echo "(a:b)" '[c,d]'`,
		`SYSTEM:echo x,stderr`,
		`SYSTEM:echo "a\"b"`,
		`SYSTEM:echo ('x' "y")`,
		`SYSTEM:echo {"a:b"}!!STDOUT`,
	}
	for _, addr := range cases {
		a, err := ParseAddress(addr)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, _ := exec.CommandContext(ctx, "socat", "-d", "-d", "-d", "-d", "-u", addr, "STDOUT").CombinedOutput()
		cancel()
		m := systemCall.FindSubmatch(out)
		if m == nil {
			t.Errorf("%s: socat did not log its system() call:\n%s", addr, out)
			continue
		}
		if got := a.Parts[0].Params[0]; got != string(m[1]) {
			t.Errorf("%s: socat ran system(%q), our parse says %q", addr, m[1], got)
		}
	}
}
