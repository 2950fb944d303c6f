/*
 * A BENIGN negative control for doorhunt's sample analyser: the kind of program that holds a
 * legitimate socket filter (a DHCP client's: UDP to port 68 with the BOOTP cookie) and
 * ordinary daemon strings, including a normal PID file and a harmless iptables listing
 * command. The analyser must find the filter, classify it as `dhcp`, and call the file clean.
 * main() prints one line and returns; it opens no socket and runs no command.
 */
#include <stdio.h>
#include <string.h>

struct filter_insn {
    unsigned short code;
    unsigned char jt;
    unsigned char jf;
    unsigned int k;
};

static const struct filter_insn dhcp_filter[] = {
    {0x28, 0, 0, 0x0000000c}, {0x15, 0, 11, 0x00000800}, {0x30, 0, 0, 0x00000017},
    {0x15, 0, 9, 0x00000011}, {0x28, 0, 0, 0x00000014}, {0x45, 7, 0, 0x00001fff},
    {0xb1, 0, 0, 0x0000000e}, {0x48, 0, 0, 0x00000010}, {0x15, 0, 4, 0x00000044},
    {0x40, 0, 0, 0x00000102}, {0x15, 1, 0, 0x63825363}, {0x06, 0, 0, 0x00000000},
    {0x06, 0, 0, 0x00040000}, {0x06, 0, 0, 0x00000000},
};

static const char *const messages[] = {
    "usage: fixture-dhcp [-d] [-pf pid-file] [interface]",
    "/run/fixture-dhcp.pid",
    "/etc/fixture-dhcp/fixture-dhcp.conf",
    "iptables -L -n",
    "listening on LPF/%s/%s",
    "HOME=/root",
};

int main(int argc, char **argv)
{
    (void)argv;
    unsigned long weight = 0;
    /* Reading the filter through argc keeps the compiler from dropping it as unused. */
    for (size_t i = 0; i < sizeof(dhcp_filter) / sizeof(dhcp_filter[0]); i++)
        weight += dhcp_filter[i].k * (unsigned long)(i + (size_t)argc) + dhcp_filter[i].code;
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
        weight += strlen(messages[i]);
    printf("doorhunt negative control: %lu bytes of data, nothing else to do\n", weight);
    return 0;
}
