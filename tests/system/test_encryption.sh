# SPDX-License-Identifier: Apache-2.0
# System test of the encryption check: real LUKS1, LUKS2 and weak LUKS
# headers, an ext4 and a swap image, made here with cryptsetup, mkfs and
# mkswap; every stack in tests/fixtures/encryption/ built around them and
# judged by the real endpointd.
. tests/system/lib.sh

mkdir -p "$T/images" "$T/roots"
img() { truncate -s 4M "$T/images/$1.img"; }
luks() {	# luks NAME ARGS...: a LUKS image with a throwaway passphrase
	name=$1
	shift
	img "$name"
	printf "not-a-secret" | cryptsetup luksFormat --batch-mode "$@" \
		"$T/images/$name.img" - >/dev/null 2>&1 || die "luksFormat $name"
}
luks luks2 --type luks2 --pbkdf argon2id --pbkdf-memory 32 \
	--pbkdf-force-iterations 4 --luks2-metadata-size 16k \
	--luks2-keyslots-size 1m
luks luks1 --type luks1 --pbkdf-force-iterations 1000
luks weak --type luks1 --cipher aes-cbc-essiv:sha256 --key-size 128 \
	--pbkdf-force-iterations 1000
luks aes256 --type luks2 --cipher aes-xts-plain64 --key-size 256 \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--luks2-metadata-size 16k --luks2-keyslots-size 1m
# LUKS2 headers with tokens in the form systemd-cryptenroll (systemd 252,
# Debian 12: src/shared/tpm2-util.c tpm2_make_luks2_json,
# src/cryptenroll/cryptenroll-fido2.c, cryptenroll-recovery.c) and clevis
# (clevis-luks-bind: the JWE kept whole under "jwe") write them. Each token
# claims a real key slot added here; its secret fields are random bytes,
# as only their form is read.
printf "not-a-secret" > "$T/images/pass"
tokened() {	# tokened NAME keep|kill TOKEN_JSON...: the passphrase in slot 0
	name=$1 keep=$2
	shift 2
	luks "$name" --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--luks2-metadata-size 16k --luks2-keyslots-size 1m
	slot=1
	for json; do
		head -c 32 /dev/urandom > "$T/images/$name.key$slot"
		cryptsetup luksAddKey --batch-mode --pbkdf pbkdf2 \
			--pbkdf-force-iterations 1000 --key-file "$T/images/pass" \
			--new-key-slot $slot "$T/images/$name.img" \
			"$T/images/$name.key$slot" || die "luksAddKey $name"
		printf '%s' "$json" | sed "s/SLOT/$slot/" \
			> "$T/images/$name.token$slot.json"
		cryptsetup token import --json-file \
			"$T/images/$name.token$slot.json" "$T/images/$name.img" \
			|| die "token import $name"
		slot=$((slot + 1))
	done
	[ "$keep" = keep ] || cryptsetup luksKillSlot --batch-mode \
		--key-file "$T/images/$name.key1" "$T/images/$name.img" 0 \
		|| die "luksKillSlot $name"
}
blob=$(head -c 96 /dev/urandom | base64 -w0)
hash=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
tpm2() {	# tpm2 true|false: systemd-cryptenroll --tpm2-device=auto
	echo '{"type":"systemd-tpm2","keyslots":["SLOT"],"tpm2-blob":"'"$blob"'","tpm2-pcrs":[7],"tpm2-pcr-bank":"sha256","tpm2-primary-alg":"ecc","tpm2-policy-hash":"'"$hash"'","tpm2-pin":'"$1"'}'
}
fido2='{"type":"systemd-fido2","keyslots":["SLOT"],"fido2-credential":"'"$blob"'","fido2-salt":"'"$(head -c 32 /dev/urandom | base64 -w0)"'","fido2-rp":"io.systemd.cryptsetup","fido2-clientPin-required":true,"fido2-up-required":true,"fido2-uv-required":false}'
recovery='{"type":"systemd-recovery","keyslots":["SLOT"]}'
# clevis luks bind -d DEV tang '{"url": ...}': the pin's name is in the
# JWE's protected header, base64url without padding.
prot=$(printf '%s' '{"alg":"ECDH-ES","clevis":{"pin":"tang","tang":{"url":"http://tang.school.example"}},"enc":"A256GCM","epk":{"crv":"P-521","kty":"EC"},"kid":"x"}' \
	| base64 -w0 | tr '+/' '-_' | tr -d '=')
tang='{"type":"clevis","keyslots":["SLOT"],"jwe":{"ciphertext":"","encrypted_key":"","iv":"","protected":"'"$prot"'","tag":""}}'
# clevis luks bind -d DEV tpm2 '{}'
prot=$(printf '%s' '{"alg":"dir","clevis":{"pin":"tpm2","tpm2":{"hash":"sha256","jwk_priv":"AA","jwk_pub":"AA","key":"ecc"}},"enc":"A256GCM"}' \
	| base64 -w0 | tr '+/' '-_' | tr -d '=')
clevis_tpm2='{"type":"clevis","keyslots":["SLOT"],"jwe":{"ciphertext":"AA","encrypted_key":"","iv":"AA","protected":"'"$prot"'","tag":"AA"}}'
tokened tpm2 kill "$(tpm2 false)" "$recovery"
tokened tpm2both keep "$(tpm2 false)"
tokened tpm2pin keep "$(tpm2 true)"
tokened fido2 kill "$fido2" "$recovery"
tokened tang keep "$tang"
tokened clevistpm2 kill "$clevis_tpm2"

img ext4 && mkfs.ext4 -q -F "$T/images/ext4.img" || die "mkfs.ext4"
img swap && mkswap -q "$T/images/swap.img" >/dev/null || die "mkswap"

$PY tests/system/stacks.py "$B/endpointd" "$T/images" "$T/roots" \
	tests/fixtures/encryption/*.stack || die "some stacks were judged wrong"
