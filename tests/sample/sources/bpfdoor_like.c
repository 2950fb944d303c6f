/*
 * A BENIGN test fixture for doorhunt's sample analyser. It is NOT malware and does nothing:
 * main() prints one line and returns (or, given --hold, waits for standard input to close so
 * a test can read its memory). It opens no socket, runs no command, writes no file.
 *
 * It only *contains* data shaped like the artefacts that public reports describe for
 * BPFDoor (doorhunt's shared notes, BPFDOOR.md): a classic socket-filter array, stack-built
 * strings, tables of fake process names and PID-file paths, iptables command templates as
 * plain strings, a salt and hashes, port constants and a back-dated timestamp. Every value
 * here is our own; the filter is doorhunt.bpf.examples.BPFDOOR_CLASSIC.
 *
 * Build variants (tests/sample/builds.py compiles them at test time; nothing compiled is
 * ever committed):
 *   (default)         the classic magics 0x7255 (UDP, ICMP) and 0x5293 (TCP)
 *   -DMAGIC_UDP=...   another magic, e.g. 0x5571; -DMAGIC_TCP=... likewise
 *   -DLATER_NAMES     the later fake names and PID files instead of the classic ones
 *   -DEXTRAS          all four of the following
 *   -DWITH_PCAP_EXPR  the filter also as libpcap text, as a build that compiles it at run time
 *                     would carry it (never compiled or used here)
 *   -DWITH_C2         a controller address table: TEST-NET-1 (RFC 5737), the IPv6
 *                     documentation prefix (RFC 3849) and a domain under .invalid (RFC 2606),
 *                     none of which can ever be reached
 *   -DWITH_CRYPTO     an RC4 key schedule of our own, run over a fixture password in memory,
 *                     and the version string a statically linked mbed TLS carries
 *   -DWITH_LAYOUT     the magic packet's 24-byte layout, read from a buffer in memory
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef EXTRAS
#define WITH_PCAP_EXPR
#define WITH_C2
#define WITH_CRYPTO
#define WITH_LAYOUT
#endif

#ifndef MAGIC_UDP
#define MAGIC_UDP 0x7255
#endif
#ifndef MAGIC_TCP
#define MAGIC_TCP 0x5293
#endif

#define BIND_PORT_FIRST 42391
#define BIND_PORT_LAST 43390
#define BACKDATED_EPOCH 1225394236

/* Same layout as struct sock_filter in <linux/filter.h>, declared here so the fixture needs
 * no kernel headers. */
struct filter_insn {
    unsigned short code;
    unsigned char jt;
    unsigned char jf;
    unsigned int k;
};

struct fixture_config {
    char pass_a[16];
    char pass_b[16];
};

/* volatile: the compiler must keep every store, so the constants stay in the code as
 * immediates, where they sit in the published builds (a bind-port loop, a utimes() call). */
static volatile unsigned long sink;
static volatile unsigned short bind_ports[2];
static volatile long backdated_stamp;

static const char *const decoy_names[] = {
#ifdef LATER_NAMES
    "/usr/sbin/cron -f -P",
    "lldpad -d",
    "/usr/bin/pulse-helper",
    "[kaluad_sync]",
#else
    "/sbin/udevd -d",
    "/sbin/mingetty /dev/tty7",
    "/usr/sbin/console-kit-daemon --no-daemon",
    "hald-addon-acpi: listening on acpi kernel interface /proc/acpi/event",
    "dbus-daemon --system",
    "hald-runner",
    "pickup -l -t fifo -u",
    "avahi-daemon: chroot helper",
#endif
};

static const char *const pid_files[] = {
#ifdef LATER_NAMES
    "/var/run/lldpad.lock",
    "/var/run/hpasmlited.pid",
#else
    "/var/run/haldrund.pid",
    "/var/run/kdevrund.pid",
    "/var/run/xinetd.lock",
#endif
};

static const char *const firewall_templates[] = {
    "/sbin/iptables -I INPUT -s %s -j ACCEPT",
    "/sbin/iptables -D INPUT -s %s -j ACCEPT",
    "/sbin/iptables -t nat -A PREROUTING -s %s -p tcp --dport %d -j REDIRECT --to-ports %d",
    "/sbin/iptables -t nat -D PREROUTING -s %s -p tcp --dport %d -j REDIRECT --to-ports %d",
};

static const char *const shell_environment[] = {
    "HOME=/tmp",
    "HISTFILE=/dev/null",
    "MYSQL_HISTFILE=/dev/null",
    "TERM=vt100",
    "PATH=/bin:/usr/kerberos/sbin:/usr/kerberos/bin:/sbin:/usr/bin:/usr/local/bin:./bin",
};

static const char *const disguise[] = {
    "/dev/shm/kdmtmpflush",
    "--init",
    "/usr/libexec/postfix/master",
    "qmgr -l -t fifo -u",
};

/* A salt and the MD5 of salt + password, as later builds are reported to keep instead of the
 * passwords themselves; the analyser must find the pair and verify it. */
static const char password_salt[] = "dh-fixture-salt";
static const char password_digests[][33] = {
    "9e7efe32b6cb70035e7a928c26f40b21",
    "769c2fafb3a82e1f778fe51509d95110",
};

#define STR2(x) #x
#define STR(x) STR2(x)

#ifdef WITH_PCAP_EXPR
/* The libpcap equivalent of the filter below (BPFDOOR.md §2), as text. */
static const char pcap_expression[] = "(udp[8:2]=" STR(MAGIC_UDP) ") or (icmp[8:2]=" STR(MAGIC_UDP)
    ") or (tcp[((tcp[12]&0xf0)>>2):2]=" STR(MAGIC_TCP) ")";
#endif

#ifdef WITH_C2
/* Controller addresses that can never be reached: documentation ranges only. */
static const char *const controllers[] = {
    "192.0.2.77:8443",
    "[2001:db8::77]:443",
    "update.example.invalid:443",
    "198.51.100.23",
};
#endif

#ifdef WITH_CRYPTO
static const char tls_version[] = "mbed TLS 2.28.3";

struct rc4_state {
    unsigned char s[256];
};

/* The RC4 key schedule (BPFDoor's shells encrypt with the password), our own code. */
static void __attribute__((noinline)) rc4_setup(struct rc4_state *state, const unsigned char *key,
                                                 size_t length)
{
    for (int i = 0; i < 256; i++)
        state->s[i] = (unsigned char)i;
    unsigned char j = 0;
    for (int i = 0; i < 256; i++) {
        j = (unsigned char)(j + state->s[i] + key[i % length]);
        unsigned char swap = state->s[i];
        state->s[i] = state->s[j];
        state->s[j] = swap;
    }
}
#endif

#ifdef WITH_LAYOUT
/* BPFDOOR.md §2: the payload after the transport header, 24 bytes, packed, network order. */
struct magic_packet {
    unsigned int flag;
    unsigned int ip;
    unsigned short port;
    char pass[14];
} __attribute__((packed));

struct trigger {
    unsigned int ip;
    unsigned short port;
    char pass[15];
};

/* Reads a trigger as the implant does once its filter let a packet through; here it only
 * ever reads a buffer that main() fills itself. */
static int __attribute__((noinline)) read_trigger(const unsigned char *payload, size_t length,
                                                  struct trigger *out)
{
    struct magic_packet packet;
    if (length < sizeof(packet))
        return 0;
    memcpy(&packet, payload, sizeof(packet));
    out->ip = packet.ip;
    out->port = ntohs(packet.port);
    memcpy(out->pass, packet.pass, sizeof(packet.pass));
    out->pass[sizeof(packet.pass)] = 0;
    return (ntohl(packet.flag) >> 16) == MAGIC_UDP;
}
#endif

static int build_filter(struct filter_insn *out, int room)
{
    /* A local array, as in the published source: the compiler keeps its initialiser as one
     * block of read-only data or writes it to the stack instruction by instruction. */
    struct filter_insn code[] = {
        {0x28, 0, 0, 0x0000000c},  {0x15, 0, 27, 0x00000800}, {0x30, 0, 0, 0x00000017},
        {0x15, 0, 5, 0x00000011},  {0x28, 0, 0, 0x00000014},  {0x45, 23, 0, 0x00001fff},
        {0xb1, 0, 0, 0x0000000e},  {0x48, 0, 0, 0x00000016},  {0x15, 19, 20, MAGIC_UDP},
        {0x15, 0, 7, 0x00000001},  {0x28, 0, 0, 0x00000014},  {0x45, 17, 0, 0x00001fff},
        {0xb1, 0, 0, 0x0000000e},  {0x48, 0, 0, 0x00000016},  {0x15, 0, 14, MAGIC_UDP},
        {0x50, 0, 0, 0x0000000e},  {0x15, 11, 12, 0x00000008}, {0x15, 0, 11, 0x00000006},
        {0x28, 0, 0, 0x00000014},  {0x45, 9, 0, 0x00001fff},  {0xb1, 0, 0, 0x0000000e},
        {0x50, 0, 0, 0x0000001a},  {0x54, 0, 0, 0x000000f0},  {0x74, 0, 0, 0x00000002},
        {0x0c, 0, 0, 0x00000000},  {0x07, 0, 0, 0x00000000},  {0x48, 0, 0, 0x0000000e},
        {0x15, 0, 1, MAGIC_TCP},   {0x06, 0, 0, 0x0000ffff},  {0x06, 0, 0, 0x00000000},
    };
    int count = (int)(sizeof(code) / sizeof(code[0]));
    if (count > room)
        return 0;
    memcpy(out, code, sizeof(code));
    return count;
}

static void fill_config(struct fixture_config *config)
{
    /* Stack-built strings: no string literal holds them, so `strings` misses them. */
    char pass_a[] = {'d', 'h', '-', 't', 'e', 's', 't', '-', 'p', 'a', 's', 's', '-', 'A', 0};
    char pass_b[] = {'d', 'h', '-', 't', 'e', 's', 't', '-', 'p', 'a', 's', 's', '-', 'B', 0};
    strncpy(config->pass_a, pass_a, sizeof(config->pass_a) - 1);
    strncpy(config->pass_b, pass_b, sizeof(config->pass_b) - 1);
    bind_ports[0] = BIND_PORT_FIRST;
    bind_ports[1] = BIND_PORT_LAST;
    backdated_stamp = BACKDATED_EPOCH;
}

static unsigned long table_weight(const char *const *table, size_t count)
{
    unsigned long weight = 0;
    for (size_t i = 0; i < count; i++)
        weight += strlen(table[i]);
    return weight;
}

int main(int argc, char **argv)
{
    struct filter_insn program[64];
    struct fixture_config config;
    memset(&config, 0, sizeof(config));
    int count = build_filter(program, 64);
    fill_config(&config);
    sink = table_weight(decoy_names, sizeof(decoy_names) / sizeof(decoy_names[0]))
         + table_weight(pid_files, sizeof(pid_files) / sizeof(pid_files[0]))
         + table_weight(firewall_templates, 4) + table_weight(shell_environment, 5)
         + table_weight(disguise, 4) + (unsigned long)password_salt[argc & 7]
         + (unsigned long)password_digests[argc & 1][argc & 15]
         + bind_ports[0] + bind_ports[1] + (unsigned long)backdated_stamp
         + (unsigned long)config.pass_a[0] + (unsigned long)config.pass_b[0];
    /* Reading the filter through argc keeps the compiler from dropping it as unused. */
    for (int i = 0; i < count; i++)
        sink ^= (unsigned long)program[i].k * (unsigned long)(i + argc) + program[i].code;
#ifdef WITH_PCAP_EXPR
    sink += (unsigned long)pcap_expression[argc & 15];
#endif
#ifdef WITH_C2
    sink += table_weight(controllers, sizeof(controllers) / sizeof(controllers[0]));
#endif
#ifdef WITH_CRYPTO
    struct rc4_state rc4;
    rc4_setup(&rc4, (const unsigned char *)config.pass_a, strlen(config.pass_a));
    sink += rc4.s[argc & 255] + (unsigned long)tls_version[argc & 7];
#endif
#ifdef WITH_LAYOUT
    unsigned char payload[24];
    struct trigger trigger;
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (unsigned char)(i * (unsigned)argc);
    sink += (unsigned long)read_trigger(payload, sizeof(payload), &trigger) + trigger.port;
#endif
    if (argc > 1 && strcmp(argv[1], "--hold") == 0) {
        /* Lets a test read this process's memory; returns when standard input closes. */
        printf("holding\n");
        fflush(stdout);
        char byte;
        while (read(0, &byte, 1) == 1)
            ;
        return 0;
    }
    printf("doorhunt test fixture: %d filter instructions, nothing else to do\n", count);
    return 0;
}
