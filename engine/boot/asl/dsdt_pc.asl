/*
 * The DSDT of the firmware board (i440FX + PIIX3/PIIX4, pc-platform.md §3),
 * handed to SeaBIOS through fw_cfg's table loader (boot/acpi_loader.c).
 *
 * Written in ASL and compiled by iasl at build time (asl2c.py) rather than
 * generated per machine: nothing here depends on the VM's shape except the
 * start of the 32-bit PCI hole, which boot/acpi.c patches into PHLO. CPUs
 * are listed in the MADT only, which is all Linux and Windows 10+ need.
 *
 * - \_SB.PCI0: the root bridge (PNP0A03). Its windows cover what SeaBIOS
 *   assigns: I/O above 0x0D00 (BARs from 0xC000) and memory from the end of
 *   low RAM to the IOAPIC (SeaBIOS allocates downwards from 0xFEC00000). No
 *   64-bit window: SeaBIOS puts BARs above 4 GiB only when the 32-bit hole
 *   overflows, which our few devices cannot make it do.
 * - _PRT: slot S, pin P (0 = INTA#) goes to PIRQ (S + P - 1) & 3, the
 *   swizzle SeaBIOS and the engine's piix3.c use; the PIIX4 PM function's
 *   INTA# (00:01.3) is the SCI, LNKS.
 * - LNKA-LNKD read and write the PIIX3 PIRQRC registers (82371SB §4.1.13,
 *   config 0x60-0x63: bit 7 disables, bits 3:0 the ISA IRQ), offering the
 *   IRQs SeaBIOS uses (5, 10, 11), level triggered and active high as the
 *   in-kernel IOAPIC sees them (the MADT's overrides say the same).
 * - ISA devices under PCI0.ISA (00:01.0): i8042 keyboard and mouse, COM1,
 *   RTC, PIC, PIT, DMA controller and PC speaker port.
 * - The power button is the FADT's fixed-feature button; there are no GPEs.
 */
DefinitionBlock ("", "DSDT", 2, "VIREO", "VIREOPC", 1)
{
    Include ("sleep_states.asl")

    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)

            /* The first address of the 32-bit PCI hole: patched to the end
             * of low RAM (keep it a DWord constant). */
            Name (PHLO, 0x80000000)
            Name (CRES, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0x80000000, 0xFEBFFFFF, 0x00000000, 0x7EC00000, , , MW32)
            })

            Method (_CRS, 0, Serialized)
            {
                CreateDWordField (CRES, \_SB.PCI0.MW32._MIN, MMIN)
                CreateDWordField (CRES, \_SB.PCI0.MW32._LEN, MLEN)
                MMIN = PHLO
                MLEN = 0xFEC00000 - PHLO
                Return (CRES)
            }

            /* 32 slots x 4 pins, built in a loop rather than spelled out. */
            Method (_PRT, 0, Serialized)
            {
                Local0 = Package (0x80) {}
                Local1 = Zero
                While (Local1 < 0x80)
                {
                    Local2 = Local1 >> 0x02              /* slot */
                    Local3 = (Local1 + Local2 + 0x03) & 0x03  /* PIRQ */
                    If (Local1 == 0x04)
                    {
                        Local4 = Package (0x04) { Zero, Zero, \_SB.LNKS, Zero }
                    }
                    ElseIf (Local3 == Zero)
                    {
                        Local4 = Package (0x04) { Zero, Zero, \_SB.LNKA, Zero }
                    }
                    ElseIf (Local3 == One)
                    {
                        Local4 = Package (0x04) { Zero, Zero, \_SB.LNKB, Zero }
                    }
                    ElseIf (Local3 == 0x02)
                    {
                        Local4 = Package (0x04) { Zero, Zero, \_SB.LNKC, Zero }
                    }
                    Else
                    {
                        Local4 = Package (0x04) { Zero, Zero, \_SB.LNKD, Zero }
                    }
                    Local4 [Zero] = (Local2 << 0x10) | 0xFFFF
                    Local4 [One] = Local1 & 0x03
                    Local0 [Local1] = Local4
                    Local1++
                }
                Return (Local0)
            }

            Device (ISA)
            {
                Name (_ADR, 0x00010000)
                OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
                Field (PIRQ, ByteAcc, NoLock, Preserve)
                {
                    PRQA, 8,
                    PRQB, 8,
                    PRQC, 8,
                    PRQD, 8
                }

                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () {1}
                    })
                }

                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () {12}
                    })
                }

                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, One)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
                        IRQNoFlags () {4}
                    })
                }

                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x10, 0x02)
                        IRQNoFlags () {8}
                    })
                }

                Device (PIC)
                {
                    Name (_HID, EisaId ("PNP0000"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0020, 0x0020, 0x01, 0x02)
                        IO (Decode16, 0x00A0, 0x00A0, 0x01, 0x02)
                        IO (Decode16, 0x04D0, 0x04D0, 0x01, 0x02)
                        IRQNoFlags () {2}
                    })
                }

                Device (TMR)
                {
                    Name (_HID, EisaId ("PNP0100"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0040, 0x0040, 0x01, 0x04)
                        IRQNoFlags () {0}
                    })
                }

                Device (DMA)
                {
                    Name (_HID, EisaId ("PNP0200"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        DMA (Compatibility, NotBusMaster, Transfer8) {4}
                        IO (Decode16, 0x0000, 0x0000, 0x01, 0x10)
                        IO (Decode16, 0x0081, 0x0081, 0x01, 0x0F)
                        IO (Decode16, 0x00C0, 0x00C0, 0x01, 0x20)
                    })
                }

                Device (SPKR)
                {
                    Name (_HID, EisaId ("PNP0800"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0061, 0x0061, 0x01, 0x01)
                    })
                }
            }
        }

        /* PCI interrupt links. PIRQRC bit 7 set: the PIRQ is routed nowhere. */
        Name (LPRS, ResourceTemplate ()
        {
            Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) {5, 10, 11}
        })

        Method (LSTA, 1, NotSerialized)
        {
            If (Arg0 & 0x80)
            {
                Return (0x09)  /* present, disabled, functioning */
            }
            Return (0x0B)      /* present, enabled, functioning */
        }

        /* A link's current IRQ from its PIRQRC value (none when disabled).
         * Byte 5 of an extended interrupt descriptor is its first IRQ
         * number (ACPI 6.4 §6.4.3.6). */
        Method (LCRS, 1, Serialized)
        {
            Local0 = ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) {0}
            }
            CreateDWordField (Local0, 0x05, INTN)
            If (!(Arg0 & 0x80))
            {
                INTN = Arg0 & 0x0F
            }
            Return (Local0)
        }

        /* The IRQ the OS chose in _SRS's descriptor. */
        Method (LSRS, 1, NotSerialized)
        {
            CreateDWordField (Arg0, 0x05, INTN)
            Return (INTN)
        }

        Device (LNKA)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, Zero)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQA)) }
            Method (_PRS, 0, NotSerialized) { Return (LPRS) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQA)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQA = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQA |= 0x80 }
        }

        Device (LNKB)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, One)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQB)) }
            Method (_PRS, 0, NotSerialized) { Return (LPRS) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQB)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQB = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQB |= 0x80 }
        }

        Device (LNKC)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x02)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQC)) }
            Method (_PRS, 0, NotSerialized) { Return (LPRS) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQC)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQC = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQC |= 0x80 }
        }

        Device (LNKD)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x03)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQD)) }
            Method (_PRS, 0, NotSerialized) { Return (LPRS) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQD)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQD = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQD |= 0x80 }
        }

        /* The SCI (IRQ 9, pc-platform.md §3.4): fixed, never rerouted. */
        Device (LNKS)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x04)
            Name (_STA, 0x0B)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) {9}
            })
            Method (_CRS, 0, NotSerialized) { Return (_PRS) }
            Method (_SRS, 1, NotSerialized) { }
        }
    }
}
