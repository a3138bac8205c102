/* The machine plan: settings resolved once into slots, positions, ports,
 * drive numbers and OpenFirmware paths, and what cannot be built refused
 * in one line. The machines are made through the same settings table as
 * the command line. */
#include <glib.h>
#include <string.h>

#include "plan.h"

/* A machine from flag/value pairs, NULL-terminated. */
static void make_machine(struct vireo_machine *m, const char *const *flags)
{
	machine_init(m);
	for (unsigned i = 0; flags[i]; i += 2) {
		g_autoptr(GError) error = NULL;
		const struct machine_setting *s = machine_setting_by_flag(flags[i]);
		g_assert_nonnull(s);
		g_assert_true(machine_set(m, s, flags[i + 1], NULL, &error));
	}
}

static void expect_refused(const char *const *flags, const char *needle)
{
	struct vireo_machine m;
	struct machine_plan plan;
	g_autofree char *error = NULL;
	make_machine(&m, flags);
	g_assert_false(machine_plan_build(&m, &plan, &error));
	g_assert_nonnull(error);
	if (!strstr(error, needle))
		g_error("'%s' lacks '%s'", error, needle);
	g_assert_null(strchr(error, '\n'));
	machine_clear(&m);
}

static void test_firmware_drives(void)
{
	static const char *const flags[] = {
		"disk", "a.img", "disk", "b.img,bus=ide", "disk", "c.img,bus=sata", "disk", "empty,bus=sata,media=cdrom",
		"disk", "d.img", "cdrom", "e.iso", "rng", "true", "net", "user", NULL,
	};
	struct vireo_machine m;
	struct machine_plan plan;
	g_autofree char *error = NULL;
	make_machine(&m, flags);
	g_assert_true(machine_plan_build(&m, &plan, &error));
	g_assert_true(plan.firmware);
	g_assert_cmpuint(plan.gpu, ==, PLAN_GPU_STD);
	g_assert_cmpuint(plan.drive_count, ==, 6);

	struct { unsigned at, number; const char *path; } want[] = {
		{ 3, 1, "/pci@i0cf8/scsi@3/disk@0,0" },            /* virtio from slot 3 */
		{ 0, 2, "/pci@i0cf8/ide@1,1/drive@0/disk@0" },     /* IDE primary master */
		{ 0, 3, "/pci@i0cf8/sata@1f/drive@0/disk@0" },     /* AHCI port 0 */
		{ 1, 1, "/pci@i0cf8/sata@1f/drive@1/disk@0" },     /* cdrom1 on port 1 */
		{ 4, 4, "/pci@i0cf8/scsi@4/disk@0,0" },
		{ 2, 2, "/pci@i0cf8/ide@1,1/drive@1/disk@0" },     /* --cdrom: secondary master, cdrom2 */
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		g_assert_cmpuint(plan.drives[i].at, ==, want[i].at);
		g_assert_cmpuint(plan.drives[i].number, ==, want[i].number);
		g_assert_cmpstr(plan.drives[i].firmware_path, ==, want[i].path);
	}
	g_assert_cmpuint(plan.drives[5].place, ==, PLAN_CDROM_PLACE);
	g_assert_cmpuint(plan.drives[3].place, ==, 3);
	g_assert_true(plan.drives[5].spec.read_only);
	g_assert_true(plan.ahci);
	g_assert_cmpuint(plan.drives_of[MACHINE_MEDIA_DISK], ==, 4);
	g_assert_cmpuint(plan.drives_of[MACHINE_MEDIA_CDROM], ==, 2);
	g_assert_cmpuint(plan.rng_slot, ==, 5);   /* after the two virtio disks */
	g_assert_cmpuint(plan.net_slot, ==, 6);
	g_assert_true(machine_plan_cdrom(&plan, 1) == &plan.drives[3]);
	g_assert_true(machine_plan_cdrom(&plan, 2) == &plan.drives[5]);
	g_assert_null(machine_plan_cdrom(&plan, 3));
	machine_plan_clear(&plan);
	machine_clear(&m);
}

static void test_direct_boot(void)
{
	static const char *const flags[] = {
		"kernel", "vmlinux", "disk", "a.img", "gpu", "virtio", "net", "none", "boot-order", "cdrom3", NULL,
	};
	struct vireo_machine m;
	struct machine_plan plan;
	g_autofree char *error = NULL;
	make_machine(&m, flags);
	g_assert_true(machine_plan_build(&m, &plan, &error));  /* a kernel's boot order is not read */
	g_assert_false(plan.firmware);
	g_assert_cmpuint(plan.gpu, ==, PLAN_GPU_VIRTIO);
	g_assert_false(plan.ahci);
	g_assert_cmpuint(plan.rng_slot, ==, PLAN_NO_SLOT);
	g_assert_cmpuint(plan.net_slot, ==, PLAN_NO_SLOT);
	g_assert_cmpuint(plan.drives[0].at, ==, PLAN_VIRTIO_FIRST_SLOT);
	machine_plan_clear(&plan);
	machine_clear(&m);
}

static void test_boot_order(void)
{
	static const char *const flags[] = { "disk", "a.img", "cdrom", "b.iso", "boot-order", "cdrom,disk1", NULL };
	struct vireo_machine m;
	struct machine_plan plan;
	g_autofree char *error = NULL;
	make_machine(&m, flags);
	g_assert_true(machine_plan_build(&m, &plan, &error));
	g_assert_cmpuint(plan.boot_order_count, ==, 2);
	g_assert_cmpuint(plan.boot_order[0].media, ==, MACHINE_MEDIA_CDROM);
	g_assert_cmpuint(plan.boot_order[0].number, ==, 0);
	g_assert_cmpuint(plan.boot_order[1].number, ==, 1);
	machine_plan_clear(&plan);
	machine_clear(&m);
}

static void test_refused(void)
{
	expect_refused((const char *const[]){ "kernel", "k", "disk", "a.img,bus=ide", NULL },
		       "disk a.img,bus=ide: IDE needs firmware boot");
	expect_refused((const char *const[]){ "kernel", "k", "cdrom", "a.iso", NULL },
		       "--cdrom a.iso: IDE needs firmware boot");
	expect_refused((const char *const[]){ "cdrom", "x.iso", "disk", "a,bus=ide", "disk", "b,bus=ide",
					      "disk", "c,bus=ide", NULL },
		       "disk c,bus=ide would be the IDE secondary master, which --cdrom x.iso takes");
	expect_refused((const char *const[]){ "disk", "a,bus=ide", "disk", "b,bus=ide", "disk", "c,bus=ide",
					      "disk", "d,bus=ide", "disk", "e,bus=ide", NULL },
		       "disk e: too many IDE drives (at most 4");
	expect_refused((const char *const[]){ "disk", "a,bus=sata", "disk", "b,bus=sata", "disk", "c,bus=sata",
					      "disk", "d,bus=sata", "disk", "e,bus=sata", "disk", "f,bus=sata",
					      "disk", "g,bus=sata", NULL },
		       "disk g: the SATA controller has 6 ports, all taken");
	expect_refused((const char *const[]){ "disk", "a.img", "cdrom", "b.iso", "boot-order", "cdrom2", NULL },
		       "boot order cdrom2: the machine has 1 CD-ROM");
	expect_refused((const char *const[]){ "boot-order", "disk1", NULL },
		       "boot order disk1: the machine has 0 hard disks");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/plan/firmware-drives", test_firmware_drives);
	g_test_add_func("/plan/direct-boot", test_direct_boot);
	g_test_add_func("/plan/boot-order", test_boot_order);
	g_test_add_func("/plan/refused", test_refused);
	return g_test_run();
}
