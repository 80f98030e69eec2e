package tlscheck

import (
	"math"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/perfdata"
	"github.com/check-socat/check-socat/internal/threshold"
	"github.com/check-socat/check-socat/internal/tlswire"
)

// The metrics of the check: perfdata labels are the contract's, the
// OpenMetrics names follow Prometheus' (after socat_tls_).

func certMetrics(cr certReport, warnDays, critDays float64) []checks.Metric {
	atLeast := func(d float64) threshold.Range { return threshold.MustParse(perfdata.FormatNumber(d, -1) + ":") }
	days := perfdata.New("days_left", cr.daysLeft, "").WithRanges(atLeast(warnDays), atLeast(critDays))
	days.Decimals = 2
	out := []checks.Metric{{Metric: days}}
	if !cr.notAfter.IsZero() {
		// cert_age, the time since that certificate's notBefore, with its
		// lifetime as max, carries the points where the state changes as
		// plain numbers, and means them as a Nagios range does: above
		// lifetime - N days is within N days of expiry. Icinga 2 reads
		// days_left's "30:" as no threshold at all (warn = null), so
		// nothing behind it draws a line or colours a value; a plain
		// number it keeps, and evaluates the right way round (a time
		// left with plain thresholds would read backwards).
		life := cr.notAfter.Sub(cr.notBefore).Seconds()
		at := func(d float64) threshold.Range {
			return threshold.MustParse(perfdata.FormatNumber(max(0, math.Round(life-d*86400)), -1))
		}
		age := perfdata.New("cert_age", math.Round(cr.age.Seconds()), "s").WithRanges(at(warnDays), at(critDays)).WithMin(0).WithMax(math.Round(life))
		out = append(out, checks.NewMetric("cert_age_seconds",
			"Time since the first-expiring certificate of the chain became valid; its max is the certificate's lifetime.", age),
			checks.Only("cert_expires_in_seconds",
				"Time until the first certificate of the chain expires (negative: expired).", cr.daysLeft*86400),
			checks.Only("cert_not_after_timestamp_seconds",
				"When the first certificate of the chain expires, as a Unix time.", float64(cr.notAfter.Unix())))
	}
	return out
}

func chainMetric(cr certReport) checks.Metric {
	return checks.NewMetric("chain_length", "Certificates in the chain the server presents.",
		perfdata.New("chain_length", float64(cr.chainLen), "").WithMin(0))
}

func keyMetric(cr certReport) checks.Metric {
	return checks.NewMetric("key_size", "Size of the leaf certificate's key, in bits.",
		perfdata.New("key_bits", float64(cr.keyBits), "").WithMin(0))
}

func durationMetric(start time.Time) checks.Metric {
	return checks.NewMetric("duration_seconds", "Duration of the whole check.",
		perfdata.Seconds("time", time.Since(start).Seconds()).WithMin(0))
}

func handshakeMetric(d time.Duration, warn, crit threshold.Range) checks.Metric {
	return checks.NewMetric("handshake_duration_seconds", "Time to the server's answer to a TLS handshake.",
		perfdata.Seconds("handshake_time", d.Seconds()).WithRanges(warn, crit).WithMin(0))
}

// scanMetrics are the protocol and suite counts, and which protocol the
// server accepts; a version whose probe failed is left out (unknown, not
// "refused").
func scanMetrics(accepted, weakProtocols, pairs, weakPairs int, protocols map[uint16]bool, failed map[uint16]error) []checks.Metric {
	out := []checks.Metric{
		checks.NewMetric("protocols_accepted", "Protocol versions the server accepts.", perfdata.New("protocols_accepted", float64(accepted), "").WithMin(0)),
		checks.NewMetric("protocols_weak", "Accepted protocol versions below --min-protocol.", perfdata.New("protocols_weak", float64(weakProtocols), "").WithMin(0)),
		checks.NewMetric("suites_accepted", "Protocol and cipher suite pairs the server accepts.", perfdata.New("ciphers_accepted", float64(pairs), "").WithMin(0)),
		checks.NewMetric("suites_weak", "Accepted protocol and cipher suite pairs that are weak.", perfdata.New("ciphers_weak", float64(weakPairs), "").WithMin(0)),
	}
	for _, v := range []uint16{tlswire.VersionSSL2, tlswire.VersionSSL3, tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13} {
		if failed[v] != nil && !protocols[v] {
			continue
		}
		on := 0.0
		if protocols[v] {
			on = 1
		}
		out = append(out, checks.Only("protocol_accepted", "Whether the server accepts this protocol version (1) or not (0).", on, "protocol", tlswire.VersionName(v)))
	}
	return out
}
