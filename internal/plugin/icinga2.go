package plugin

import (
	"fmt"
	"io"
	"strings"

	"github.com/check-socat/check-socat/internal/flags"
)

// The hidden --icinga2-command prints the binary's Icinga 2 CheckCommand
// (in the style of the Icinga Template Library) from the same flag
// definitions as --help, and exits 3. The packaged
// packaging/icinga2/check_socat.conf is these four objects; a test keeps
// them equal.

// builtIn are flags that are not check options.
var builtIn = map[string]bool{"help": true, "version": true, "man-page": true, "icinga2-command": true,
	"discover": true, "discover-host": true} // (procs: prints configuration, not a result)

// commonVar names the variables of the flags every binary shares: set
// once (on a host, a template), they apply to every socat check.
var commonVar = map[string]string{"timeout": "socat_timeout", "timeout-state": "socat_timeout_state",
	"verbose": "socat_verbose", "max-output": "socat_max_output", "output": "socat_output", "textfile": "socat_textfile"}

// IcingaVar is the custom variable of a flag of a binary. The timeout is
// each command's own (socat_endpoint_timeout...), defaulting to the
// shared socat_timeout: a full TLS audit and a log read want different
// deadlines on one host.
func IcingaVar(binary, flag string) string {
	if v, ok := commonVar[flag]; ok && flag != "timeout" {
		return v
	}
	return strings.TrimPrefix(binary, "check_") + "_" + strings.ReplaceAll(flag, "-", "_")
}

func icingaString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return s
}

// WriteIcinga2 writes the CheckCommand of a binary.
func WriteIcinga2(w io.Writer, set *flags.Set, o Options) {
	name := strings.TrimPrefix(o.Name, "check_")
	hasHost := false
	for _, f := range set.Flags {
		if f.Name == "host" {
			hasHost = true
		}
	}
	fmt.Fprintf(w, "object CheckCommand \"%s\" {\n", name)
	if hasHost {
		// $check_address$: the host's address (IPv4, else IPv6), from the ITL.
		fmt.Fprintf(w, "\timport \"ipv4-or-ipv6\"\n\n")
	}
	fmt.Fprintf(w, "\tcommand = [ PluginDir + \"/%s\" ]\n\n", o.Name)
	fmt.Fprintf(w, "\targuments = {\n")
	var hostVar string
	has := map[string]bool{}
	for _, f := range set.Flags {
		has[f.Name] = true
	}
	for _, f := range set.Flags {
		if f.Hidden || builtIn[f.Name] {
			continue
		}
		v := IcingaVar(o.Name, f.Name)
		desc := icingaString(strings.Join(strings.Fields(f.Help), " "))
		key := "--" + f.Name
		switch {
		case f.Kind == flags.Counter:
			// A level (Icinga repeats no key a number of times): passed as
			// --verbose=N; true, from configurations that set a switch, is 1.
			fmt.Fprintf(w, "\t\t\"%s\" = {\n\t\t\tvalue = \"%s=$%s$\"\n\t\t\tskip_key = true\n\t\t\tset_if = \"$%s$\"\n\t\t\tdescription = \"%s\"\n\t\t}\n",
				key, key, v, v, icingaString(strings.Join(strings.Fields(f.Help), " ")+" In Icinga a level: 1, 2 or 3 (true is 1)."))
		case !f.TakesValue():
			fmt.Fprintf(w, "\t\t\"%s\" = {\n\t\t\tset_if = \"$%s$\"\n\t\t\tdescription = \"%s\"\n\t\t}\n", key, v, desc)
		case f.Kind == flags.Repeated:
			fmt.Fprintf(w, "\t\t\"%s\" = {\n\t\t\tvalue = \"$%s$\"\n\t\t\trepeat_key = true\n\t\t\tdescription = \"%s\"\n\t\t}\n", key, v, desc)
		case f.Name == "host" && (has["cert-file"] || has["unix"]):
			// The host's address by default, but not when a file is
			// audited or a UNIX socket probed (--cert-file and --unix
			// exclude -H).
			other := "cert-file"
			if has["unix"] {
				other = "unix"
			}
			fmt.Fprintf(w, "\t\t\"%s\" = {\n\t\t\tvalue = \"$%s$\"\n\t\t\tset_if = {{ !macro(\"$%s$\") }}\n\t\t\tdescription = \"%s\"\n\t\t}\n",
				key, v, IcingaVar(o.Name, other), desc)
		default:
			fmt.Fprintf(w, "\t\t\"%s\" = {\n\t\t\tvalue = \"$%s$\"\n\t\t\tdescription = \"%s\"\n\t\t}\n", key, v, desc)
		}
		if f.Name == "host" {
			hostVar = v
		}
	}
	fmt.Fprintf(w, "\t}\n\n")
	// socat_timeout has the plugin's default here, at the command (the
	// lowest priority: a host's or service's own wins). Left undefined,
	// the nested macro resolves to nothing when Icinga runs the check
	// itself (the argument is left out) but to "" when an agent runs it
	// (command_endpoint): the master sends its resolved macros, and the
	// agent passed --timeout "" (seen in the distributed test).
	fmt.Fprintf(w, "\tvars.%s = \"$socat_timeout$\"\n", IcingaVar(o.Name, "timeout"))
	if f := set.Lookup("timeout"); f != nil && f.Default != "" {
		fmt.Fprintf(w, "\tvars.socat_timeout = %q\n", f.Default)
	}
	if hostVar != "" {
		fmt.Fprintf(w, "\tvars.%s = \"$check_address$\"\n", hostVar)
	}
	if has["use-ipv4"] && has["use-ipv6"] {
		// As the ITL's tcp: the switches also choose which of the host's
		// addresses $check_address$ is (ipv4-or-ipv6).
		fmt.Fprintf(w, "\tvars.check_ipv4 = \"$%s$\"\n\tvars.check_ipv6 = \"$%s$\"\n", IcingaVar(o.Name, "use-ipv4"), IcingaVar(o.Name, "use-ipv6"))
	}
	fmt.Fprintf(w, "}\n")
	if o.SudoCommand {
		// Root's view for the monitoring user, through the sudoers snippet
		// the package ships as an example (sudo -n: no password prompt to
		// hang on; a missing rule is an immediate error).
		fmt.Fprintf(w, "\nobject CheckCommand \"%s_sudo\" {\n\timport \"%s\"\n\n\tcommand = [ \"/usr/bin/sudo\", \"-n\", PluginDir + \"/%s\" ]\n}\n", name, name, o.Name)
	}
	if has["cert-only"] {
		// The certificate-only check as a command of its own: one
		// handshake, for short intervals; socat_tls is the full audit
		// (dozens of connections), for a few times a day.
		fmt.Fprintf(w, "\nobject CheckCommand \"%s_cert\" {\n\timport \"%s\"\n\n\tvars.%s = true\n}\n", name, name, IcingaVar(o.Name, "cert-only"))
	}
}
