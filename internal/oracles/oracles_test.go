package oracles

import (
	"os"
	"strings"
	"testing"
)

// The three recorded views of one legacy socat listener
// (cipher=NULL-MD5:NULL-SHA:ADH-AES128-SHA:AECDH-NULL-SHA:AES128-SHA:@SECLEVEL=0,
// min-version=TLS1): testssl.sh 3.0.8's -p -E JSON, sslscan 2.0.7's XML
// and check_socat_tls -v --output json. All three say TLS 1.0 to 1.3,
// five suites in each of the first three and three in TLS 1.3.
func TestParseRecordedViews(t *testing.T) {
	read := func(name string) []byte {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tssl, err := ParseTestssl(read("testssl-legacy.json"))
	if err != nil {
		t.Fatal(err)
	}
	ssl, err := ParseSSLScanXML(read("sslscan-legacy.xml"))
	if err != nil {
		t.Fatal(err)
	}
	ours, err := Ours(read("ours-legacy.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]View{"testssl": tssl, "sslscan": ssl, "ours": ours} {
		if p, s := v.Counts(); p != 4 || s != 18 {
			t.Errorf("%s: %d protocols, %d pairs; want 4 and 18", name, p, s)
		}
		if !v.Pairs[Pair{"TLS1.0", 0x0001}] || !v.Pairs[Pair{"TLS1.2", 0xC015}] || !v.Pairs[Pair{"TLS1.3", 0x1303}] {
			t.Errorf("%s: NULL-MD5 in TLS 1.0, AECDH-NULL-SHA in TLS 1.2 or ChaCha in TLS 1.3 missing: %v", name, v.Pairs)
		}
		if n := v.PairsOf("TLS1.1"); n != 5 {
			t.Errorf("%s: %d TLS 1.1 pairs, want 5", name, n)
		}
	}
	if d := Compare(ours, tssl); !d.Empty() {
		t.Errorf("testssl differs: %s", d)
	}
	if d := Compare(ours, ssl); !d.Empty() {
		t.Errorf("sslscan differs: %s", d)
	}
}

func TestParseTestsslRefusesAnIncompleteRun(t *testing.T) {
	protocols := `{"id":"SSLv2","finding":"not offered"},{"id":"SSLv3","finding":"not offered"},{"id":"TLS1","finding":"not offered"},` +
		`{"id":"TLS1_1","finding":"not offered"},{"id":"TLS1_2","finding":"offered"},`
	for name, tc := range map[string]struct {
		json, want string
	}{
		"a scan problem":     {`[` + protocols + `{"id":"TLS1_3","finding":"offered with final"},{"id":"scanProblem","severity":"WARN","finding":"connect problem"}]`, "connect problem"},
		"no TLS 1.3 finding": {`[` + protocols + `{"id":"cipher-tls1_2_xc02f","finding":"TLS 1.2 xc02f"}]`, "did not finish"},
		"not tested":         {`[` + strings.Replace(protocols, `"SSLv3","finding":"not offered"`, `"SSLv3","finding":"not tested due to lack of local support"`, 1) + `{"id":"TLS1_3","finding":"offered"}]`, "lack of local support"},
		"not JSON":           {`[{"id":`, "testssl's JSON"},
	} {
		if _, err := ParseTestssl([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one saying %q", name, err, tc.want)
		}
	}
	v, err := ParseTestssl([]byte(`[` + protocols + `{"id":"TLS1_3","finding":"offered with final"},{"id":"cipher-tls1_2_xc02f"},{"id":"cipher-tls1_2_x9f"},{"id":"cipher-tls1_3_x1301"},{"id":"cipher-ssl2_x010080"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if !v.Pairs[Pair{"TLS1.2", 0xC02F}] || !v.Pairs[Pair{"TLS1.2", 0x009F}] || !v.Pairs[Pair{"TLS1.3", 0x1301}] || len(v.Pairs) != 3 || len(v.Protocols) != 2 {
		t.Errorf("got %v %v: want 2 protocols and 3 pairs, SSLv2 specs not counted", v.Protocols, v.Pairs)
	}
}

func TestOursRefusesDisagreeingMetrics(t *testing.T) {
	data, err := os.ReadFile("testdata/ours-legacy.json")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), `"name":"socat_tls_suites_accepted","labels":{},"value":18`, `"name":"socat_tls_suites_accepted","labels":{},"value":17`, 1)
	if bad == string(data) {
		t.Fatal("the fixture has no suites_accepted metric of 18")
	}
	if _, err := Ours([]byte(bad)); err == nil || !strings.Contains(err.Error(), "17 pairs") {
		t.Errorf("err %v, want the disagreement", err)
	}
}

func TestExplain(t *testing.T) {
	ours := View{Protocols: map[string]bool{"TLS1.2": true, "TLS1.3": true},
		Pairs: map[Pair]bool{{"TLS1.2", 0xC02F}: true, {"TLS1.2", 0xC030}: true, {"TLS1.3", 0x1301}: true}}
	other := View{Protocols: map[string]bool{"TLS1.2": true, "TLS1.3": true, "TLS1.1": true},
		Pairs: map[Pair]bool{{"TLS1.3", 0x1301}: true, {"TLS1.1", 0x002F}: true}}
	d := Compare(ours, other)
	if len(d.Missing) != 2 || len(d.Extra) != 1 || len(d.ExtraProtocols) != 1 || len(d.MissingProtocols) != 0 {
		t.Fatalf("diff %+v", d)
	}
	tls12 := func(p Pair) bool { return p.Version == "TLS1.2" }
	known := []Known{
		{Oracle: "sslscan", Missing: tls12, Why: "no TLS 1.2 pairs."},
		{Oracle: "testssl", Missing: tls12, Why: "another oracle's."},
		{Oracle: "sslscan", ExtraProtocols: []string{"SSLv3"}, Why: "stale."},
	}
	matched, rest := Explain("sslscan", d, known)
	if len(matched) != 1 || matched[0].Why != "no TLS 1.2 pairs." {
		t.Errorf("matched %+v", matched)
	}
	if len(rest.Missing) != 0 || len(rest.Extra) != 1 || len(rest.ExtraProtocols) != 1 || rest.Empty() {
		t.Errorf("unexplained %+v: want the TLS 1.1 pair and protocol", rest)
	}
	if s := rest.String(); !strings.Contains(s, "sees more protocols 1: TLS1.1") || !strings.Contains(s, "TLS1.1 TLS_RSA_WITH_AES_128_CBC_SHA") {
		t.Errorf("rest says %q", s)
	}
	if stale := Stale("sslscan", d, known); len(stale) != 1 || stale[0] != "stale." {
		t.Errorf("stale %q", stale)
	}
}
