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

# The nginx example (installer/nginx/collectord.conf) in front of a plain
# collectord, as a school runs it: its TLS server sends HSTS, so a browser
# that has seen the dashboard once never tries plain HTTP again.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "no nginx (installer/deps.sh installs nginx-light)"
free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PLAIN=$(free_port); P80=$(free_port); P443=$(free_port)
"$B/collectord" --db "sqlite:$T/db" --listen "127.0.0.1:$PLAIN" 2>>"$T/log" &
DAEMON_PID=$!
mkdir -p "$T/nginx"
sed -e "s|listen 80;|listen 127.0.0.1:$P80;|" \
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$P443 ssl http2;|" \
    -e '/listen \[::\]/d' \
    -e "s|/etc/ssl/certs/collector.pem|$T/cert.pem|" \
    -e "s|/etc/ssl/private/collector.key|$T/key.pem|" \
    -e "s|127.0.0.1:8080|127.0.0.1:$PLAIN|" \
    installer/nginx/collectord.conf > "$T/nginx/site.conf"
cat > "$T/nginx/nginx.conf" <<CONF
daemon off;
pid $T/nginx/pid;
error_log $T/nginx/error.log;
events { }
http {
    access_log off;
    client_body_temp_path $T/nginx/body;
    proxy_temp_path $T/nginx/proxy;
    include $T/nginx/site.conf;
}
CONF
"$NGINX" -c "$T/nginx/nginx.conf" -p "$T/nginx" 2>>"$T/log" &
NGINX_PID=$!
trap 'kill "$NGINX_PID" 2>/dev/null || true; cleanup' EXIT
wait_for "collectord through nginx" curl -sf --cacert "$T/cert.pem" \
	"https://127.0.0.1:$P443/healthz"
curl -s -D "$T/nginx-headers" -o /dev/null --cacert "$T/cert.pem" \
	"https://127.0.0.1:$P443/healthz"
hsts=$(grep -i '^strict-transport-security:' "$T/nginx-headers" | tr -d '\r')
age=$(echo "$hsts" | sed -n 's/.*max-age=\([0-9]*\).*/\1/p')
[ -n "$age" ] && [ "$age" -ge 31536000 ] ||
	die "the nginx example sends no HSTS of a year or more: '$hsts'"
ok "the nginx example sends $hsts"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P80/")
[ "$code" = 301 ] || die "plain HTTP to the nginx example: $code, not 301"
ok "the nginx example redirects plain HTTP to HTTPS"
kill "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null || true
stop_daemon
