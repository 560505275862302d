/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of zfs.c on what OpenZFS 2.1.11's own zfs tool printed of
 * real pools (tests/fixtures/zfs, made by its capture.sh in a VM that
 * loads the module; the build machine cannot). The tool is asked about
 * the mounted dataset and its parents in one run; the -r captures hold
 * both, the single-dataset ones only the dataset.
 */
#include <errno.h>
#include <libmount/libmount.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "util.h"
#include "zfs.h"

#define FIXTURES "tests/fixtures/zfs/"

static char *fixture(const char *name)
{
	_cleanup_free_ char *path = xasprintf(FIXTURES "%s", name);
	char *text = NULL;
	size_t len;

	assert_int_equal(read_file(path, 1 << 20, &text, &len), 0);
	return text;
}

/* Ubuntu's installer with encryption: every dataset under rpool, the
 * encryption root, whose key is a passphrase typed at boot. */
static void test_native_passphrase(void **state)
{
	_cleanup_free_ char *out = fixture("native-r.get");
	struct zfs_crypt c;
	char cipher[16], mode[16];
	int bits;

	(void)state;
	assert_int_equal(zfs_parse(out, "rpool/ROOT/ubuntu_abc123", &c), 0);
	assert_string_equal(c.cipher, "aes-256-gcm");
	assert_string_equal(c.encroot, "rpool");
	assert_string_equal(c.keystatus, "available");
	/* The child says "none"; the root's location is the key's. */
	assert_string_equal(c.keylocation, "prompt");
	assert_string_equal(c.keyformat, "passphrase");
	assert_string_equal(zfs_unlock_kind(&c), "passphrase typed at boot");
	assert_false(zfs_unlocks_by_itself(&c));
	assert_null(zfs_key_file(&c));
	assert_int_equal(zfs_cipher(&c, cipher, mode, &bits), 0);
	assert_string_equal(cipher, "aes");
	assert_string_equal(mode, "gcm");
	assert_int_equal(bits, 256);

	/* Alice's home, two levels below the root. */
	assert_int_equal(zfs_parse(out, "rpool/USERDATA/alice_x1y2z3", &c), 0);
	assert_string_equal(c.keylocation, "prompt");
	/* "encryption=on" under an encrypted parent shares its key. */
	assert_int_equal(zfs_parse(out, "rpool/encon", &c), 0);
	assert_string_equal(c.cipher, "aes-256-gcm");
	assert_string_equal(c.encroot, "rpool");
}

/* A child's own lines without its encryption root's cannot say where the
 * key comes from: not understood, never guessed. */
static void test_child_without_its_root(void **state)
{
	_cleanup_free_ char *out = fixture("native-root.get");
	struct zfs_crypt c;

	(void)state;
	assert_int_equal(zfs_parse(out, "rpool/ROOT/ubuntu_abc123", &c),
			 -EINVAL);
	free(out);
	out = fixture("native-pool.get");
	assert_int_equal(zfs_parse(out, "rpool", &c), 0);
	assert_string_equal(c.keylocation, "prompt");
}

/* Ubuntu's keystore: a raw key in a file on the LUKS keystore; the zvol
 * holding the keystore is itself not ZFS-encrypted. */
static void test_keystore(void **state)
{
	_cleanup_free_ char *out = fixture("keystore-r.get");
	struct zfs_crypt c;

	(void)state;
	assert_int_equal(zfs_parse(out, "rpool/ROOT/ubuntu_def456", &c), 0);
	assert_string_equal(c.keyformat, "raw");
	assert_string_equal(zfs_key_file(&c), "/run/keystore/rpool/system.key");
	assert_string_equal(zfs_unlock_kind(&c), "key file");
	assert_true(zfs_unlocks_by_itself(&c));
	assert_int_equal(zfs_parse(out, "rpool/keystore", &c), 0);
	assert_string_equal(c.cipher, "off");
}

static void test_tank(void **state)
{
	_cleanup_free_ char *out = fixture("tank-r.get");
	struct zfs_crypt c;
	char cipher[16], mode[16];
	int bits;

	(void)state;
	assert_int_equal(zfs_parse(out, "tank", &c), 0);
	assert_string_equal(c.cipher, "off");
	assert_int_equal(zfs_cipher(&c, cipher, mode, &bits), -EINVAL);
	assert_int_equal(zfs_parse(out, "tank/secure/child", &c), 0);
	assert_string_equal(c.encroot, "tank/secure");
	assert_string_equal(c.keylocation, "prompt");
	assert_int_equal(zfs_parse(out, "tank/hexkey", &c), 0);
	assert_string_equal(c.keyformat, "hex");
	assert_string_equal(zfs_key_file(&c), "/etc/zfs/keys/tank.key");
	assert_int_equal(zfs_parse(out, "tank/locked/child", &c), 0);
	assert_string_equal(c.keystatus, "unavailable");
	assert_string_equal(c.keylocation, "prompt");
	/* A dataset the output does not name. */
	assert_int_equal(zfs_parse(out, "tank/none", &c), -EINVAL);
}

/* What the tool says when it cannot answer, in words for the evidence. */
static void test_failures(void **state)
{
	_cleanup_free_ char *nomod = fixture("nomodule.err");
	_cleanup_free_ char *nosuch = fixture("nosuch.err");
	_cleanup_free_ char *empty = fixture("nomodule.get");
	_cleanup_free_ char *a = NULL, *b = NULL, *d = NULL;
	struct zfs_crypt c;

	(void)state;
	a = zfs_failure(-EIO, nomod, "rpool");
	assert_string_equal(a, "the kernel's ZFS module is not loaded");
	b = zfs_failure(-EIO, nosuch, "no/such/dataset");
	assert_string_equal(b, "zfs get no/such/dataset failed: cannot open "
			       "'no/such/dataset': dataset does not exist");
	d = zfs_failure(-ENOENT, NULL, "rpool");
	assert_string_equal(d, "the zfs tool (zfsutils-linux) is not installed");
	assert_int_equal(zfs_parse(empty, "rpool", &c), -EINVAL);
}

/* Output that is not the tool's: too few or too many columns, a value
 * longer than its field. */
static void test_malformed(void **state)
{
	_cleanup_free_ char *longval = NULL;
	struct zfs_crypt c;

	(void)state;
	assert_int_equal(zfs_parse("rpool\tencryption\taes-256-gcm\n", "rpool",
				   &c), -EINVAL);
	assert_int_equal(zfs_parse("rpool\tencryption\taes-256-gcm\t-\tx\n",
				   "rpool", &c), -EINVAL);
	longval = xasprintf("rpool\tencryption\t%0200d\t-\n", 0);
	assert_int_equal(zfs_parse(longval, "rpool", &c), -EINVAL);
	assert_int_equal(zfs_parse("", "rpool", &c), -EINVAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(zfs_name_ok("rpool/ROOT/ubuntu_abc123"));
	assert_true(zfs_name_ok("tank/home@monday"));
	assert_false(zfs_name_ok("-o"));
	assert_false(zfs_name_ok("/dev/sda1"));
	assert_false(zfs_name_ok(""));
	assert_false(zfs_name_ok("rpool/a\nb"));
}

/* The mount table names the dataset as the mount's source, which is what
 * the encryption check asks the tool about. */
static void test_mountinfo(void **state)
{
	struct libmnt_table *t = mnt_new_table();
	struct libmnt_fs *fs;

	(void)state;
	assert_int_equal(mnt_table_parse_file(t, FIXTURES "mountinfo-keystore.txt"),
			 0);
	fs = mnt_table_find_target(t, "/mnt/home/alice", MNT_ITER_BACKWARD);
	assert_non_null(fs);
	assert_string_equal(mnt_fs_get_fstype(fs), "zfs");
	assert_string_equal(mnt_fs_get_source(fs), "rpool/USERDATA/alice_x1y2z3");
	fs = mnt_table_find_target(t, "/run/keystore/rpool", MNT_ITER_BACKWARD);
	assert_non_null(fs);
	assert_string_equal(mnt_fs_get_source(fs), "/dev/mapper/keystore-rpool");
	mnt_unref_table(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_native_passphrase),
		cmocka_unit_test(test_child_without_its_root),
		cmocka_unit_test(test_keystore),
		cmocka_unit_test(test_tank),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mountinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
