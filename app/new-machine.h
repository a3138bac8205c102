/* The New Machine assistant: name, boot source (an installer ISO, a disk
 * image or a Linux kernel and initrd), the operating system whose preset
 * picks the hardware, memory, processors, firmware and a new disk,
 * validated in place; the caller writes the machine through the library. */
#ifndef VIREO_NEW_MACHINE_H
#define VIREO_NEW_MACHINE_H

#include <gtk/gtk.h>

#include "machine.h"

#define VIREO_TYPE_NEW_MACHINE_DIALOG (vireo_new_machine_dialog_get_type())
G_DECLARE_FINAL_TYPE(VireoNewMachineDialog, vireo_new_machine_dialog, VIREO, NEW_MACHINE_DIALOG, GtkDialog)

/* `entries`: the library's machines, for unique names (the dialog keeps a
 * reference); `display`: the screen spec new machines get. */
GtkWidget *vireo_new_machine_dialog_new(GtkWindow *parent, GPtrArray *entries, const char *display);

/* After GTK_RESPONSE_OK: the machine as entered. */
void vireo_new_machine_dialog_get_machine(VireoNewMachineDialog *dialog, struct vireo_machine *m);
/* The size of the new empty disk to make, in bytes; 0 for none. */
uint64_t vireo_new_machine_dialog_get_disk_size(VireoNewMachineDialog *dialog);
/* The new disk's controller as disk spec options ("bus=sata"), or NULL. */
const char *vireo_new_machine_dialog_get_disk_options(VireoNewMachineDialog *dialog);

#endif
