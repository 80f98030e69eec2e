#!/usr/bin/env bash
# gen-icinga2.sh: print packaging/icinga2/check_socat.conf, the CheckCommands that the binaries in
# bin/ describe (--icinga2-command), so that the packaged file follows the flags.
set -euo pipefail
cd "$(dirname "$0")/.."
cat <<'HEAD'
/* check_socat: Icinga 2 CheckCommands for the socat check plugins, in the style of the Icinga
 * Template Library. Installed in /usr/share/icinga2/include/plugins-contrib.d/, read by
 * `include <plugins-contrib>`. Generated from the plugins' flags (make packaging-files); do not
 * edit. Every flag is a custom variable vars.socat_<check>_<flag>; the flags every check shares are
 * vars.socat_timeout_state, vars.socat_verbose (a level), vars.socat_max_output, vars.socat_output
 * and vars.socat_textfile (give each service its own textfile path). Each command has its own
 * deadline, vars.socat_<check>_timeout, which defaults to vars.socat_timeout; keep it below the
 * service's check_timeout (Icinga's default: 1m) so that the plugin, not Icinga, says what timed out.
 * socat_tls is the full TLS audit (dozens of connections: a few times a day), socat_tls_cert the
 * certificate-only check (one handshake: any interval). Repeatable flags take an array; switches
 * are booleans.
 */
HEAD
read -r -a binaries <<< "${BINARIES:?set BINARIES to the list of binaries (make packaging-files does)}"
for b in "${binaries[@]}"; do
  echo
  bin/$b --icinga2-command || [[ $? -eq 3 ]]
done
