/* Sleep states (ACPI 6.4 §7.4.2): {PM1a SLP_TYP, PM1b SLP_TYP, reserved,
 * reserved}. hw/acpi_pm.c powers off when SLP_EN is written with SLP_TYP 0,
 * the value QEMU's PIIX4 uses for soft-off; S0 shares it, but SLP_TYP alone
 * (no SLP_EN) changes nothing. There is no S1-S4. */
Name (\_S0, Package (0x04) { Zero, Zero, Zero, Zero })
Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })
