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
img ext4 && mkfs.ext4 -q -F "$T/images/ext4.img" || die "mkfs.ext4"
img swap && mkswap -q "$T/images/swap.img" >/dev/null || die "mkswap"

$PY tests/system/stacks.py "$B/endpointd" "$T/images" "$T/roots" \
	tests/fixtures/encryption/*.stack || die "some stacks were judged wrong"
