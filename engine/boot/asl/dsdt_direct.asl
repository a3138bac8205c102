/* The DSDT for direct kernel boot: no firmware, no PIIX3 link routing, so
 * only the sleep states Linux needs to power off. */
DefinitionBlock ("", "DSDT", 2, "VIREO", "VIREOVM", 1)
{
    Include ("sleep_states.asl")
}
