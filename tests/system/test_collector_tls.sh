# SPDX-License-Identifier: Apache-2.0
# collectord serving HTTPS itself (--tls-cert, --tls-key): a certificate
# made here, verified by curl; plain HTTP to the same port is refused.
. tests/system/lib.sh

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 2 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 ||
	die "openssl could not make a certificate"
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
S=$("$B/collectord" --db "sqlite:$T/db" --new-enrol-secret --group Oak) ||
	die "no enrolment secret"
"$B/collectord" --db "sqlite:$T/db" --listen "127.0.0.1:$PORT" \
	--tls-cert "$T/cert.pem" --tls-key "$T/key.pem" 2>>"$T/log" &
DAEMON_PID=$!
wait_for "HTTPS" curl -sf --cacert "$T/cert.pem" "https://127.0.0.1:$PORT/healthz"
code=$(curl -s -o "$T/enrol" -w '%{http_code}' --cacert "$T/cert.pem" \
	-H 'Content-Type: application/json' \
	-d "{\"enrol_secret\":\"$S\",\"device\":{\"machine_id\":\"abcdef01\"}}" \
	"https://127.0.0.1:$PORT/api/v1/enrol")
[ "$code" = 201 ] || die "enrolment over HTTPS: $code"
ok "enrolment over HTTPS, the certificate verified"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" || true)
[ "$code" != 200 ] || die "plain HTTP answered on the TLS port"
ok "plain HTTP is not served on the TLS port"
echo "correct horse battery" | "$B/collectord" --db "sqlite:$T/db" --add-admin ict >/dev/null
curl -s -D "$T/headers" -o /dev/null --cacert "$T/cert.pem" \
	-H 'Content-Type: application/json' \
	-d '{"name":"ict","password":"correct horse battery"}' \
	"https://127.0.0.1:$PORT/api/v1/session"
grep -i '^set-cookie: collectord_session=[0-9a-f]\{64\};.*HttpOnly; SameSite=Strict; Secure' "$T/headers" >/dev/null ||
	die "the dashboard's cookie over HTTPS is not Secure: $(grep -i set-cookie "$T/headers")"
ok "the dashboard's session cookie over HTTPS is Secure, HttpOnly, SameSite=Strict"
stop_daemon
ok "stops cleanly"
