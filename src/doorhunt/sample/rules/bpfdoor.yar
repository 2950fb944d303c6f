/*
 * doorhunt's YARA rules for BPFDoor-style implants. Written by the doorhunt project
 * (AGPL-3.0-or-later) from public descriptions of the implant (Elastic Security Labs 2022,
 * Sandfly 2022, Deep Instinct 2023, Trend Micro 2023/2025, KISA/KrCERT 2025, Rapid7 2025/2026).
 *
 * Every rule is anchored in context: no rule fires on one short fragment. Each names in
 * `example` the test fixtures it must match (tests/sample/sources, compiled at test time),
 * and the test suite also runs every rule over system binaries, which must not match.
 * The rules compile with YARA-X and with YARA 4.2 (the benchmark's baseline).
 */

rule doorhunt_bpfdoor_filter_array
{
    meta:
        description = "A classic BPF program shaped like BPFDoor's: a 2-byte compare at the start of the UDP payload and of the TCP payload (after the data-offset arithmetic), stored as a struct sock_filter array"
        author = "doorhunt"
        reference = "Elastic Security Labs 2022, A peek behind the BPFDoor; BPFDOOR.md section 2"
        severity = 90
        example = "classic-x86-32, classic-x86-32-O2"

    strings:
        // ldxb 4*([14]&0xf); ldh [x+22]; jeq #k   (little-endian struct sock_filter)
        $udp_payload_le = { B1 00 00 00 0E 00 00 00 48 00 00 00 16 00 00 00 15 00 ?? ?? ?? ?? 00 00 }
        // ldb [x+26]; and #0xf0; rsh #2; add x; tax; ldh [x+14]; jeq #k
        $tcp_payload_le = { 50 00 00 00 1A 00 00 00 54 00 00 00 F0 00 00 00 74 00 00 00 02 00 00 00
                            0C 00 00 00 ?? ?? ?? ?? 07 00 00 00 ?? ?? ?? ?? 48 00 00 00 0E 00 00 00
                            15 00 }
        $udp_payload_be = { 00 B1 00 00 00 00 00 0E 00 48 00 00 00 00 00 16 00 15 ?? ?? 00 00 ?? ?? }
        $tcp_payload_be = { 00 50 00 00 00 00 00 1A 00 54 00 00 00 00 00 F0 00 74 00 00 00 00 00 02
                            00 0C 00 00 ?? ?? ?? ?? 00 07 00 00 ?? ?? ?? ?? 00 48 00 00 00 00 00 0E
                            00 15 }

    condition:
        ($udp_payload_le and $tcp_payload_le and
            ((@tcp_payload_le[1] > @udp_payload_le[1] and @tcp_payload_le[1] - @udp_payload_le[1] < 512) or
             (@udp_payload_le[1] > @tcp_payload_le[1] and @udp_payload_le[1] - @tcp_payload_le[1] < 512)))
        or
        ($udp_payload_be and $tcp_payload_be and
            ((@tcp_payload_be[1] > @udp_payload_be[1] and @tcp_payload_be[1] - @udp_payload_be[1] < 512) or
             (@udp_payload_be[1] > @tcp_payload_be[1] and @udp_payload_be[1] - @tcp_payload_be[1] < 512)))
}

rule doorhunt_bpfdoor_filter_stack_x86
{
    meta:
        description = "x86 code writing a BPFDoor-shaped socket filter to the stack field by field (movw code, movb jt, movb jf, movl k at [rbp/ebp - disp32]), as unoptimised builds do"
        author = "doorhunt"
        reference = "Elastic Security Labs 2022; BPFDOOR.md section 2"
        severity = 90
        example = "classic-x86-64-O0"

    strings:
        // Each field is one store; the displacement is one byte near the frame pointer and four
        // further away (Intel SDM: MOV C6/C7 with ModRM 0x45 / 0x85).
        // ldb [x+26]; and #0xf0; rsh #2
        $tcp_arithmetic = { 66 C7 (45 ?? | 85 ?? ?? FF FF) 50 00 C6 (45 ?? | 85 ?? ?? FF FF) 00 C6 (45 ?? | 85 ?? ?? FF FF) 00 C7 (45 ?? | 85 ?? ?? FF FF) 1A 00 00 00
                            66 C7 (45 ?? | 85 ?? ?? FF FF) 54 00 C6 (45 ?? | 85 ?? ?? FF FF) 00 C6 (45 ?? | 85 ?? ?? FF FF) 00 C7 (45 ?? | 85 ?? ?? FF FF) F0 00 00 00
                            66 C7 (45 ?? | 85 ?? ?? FF FF) 74 00 C6 (45 ?? | 85 ?? ?? FF FF) 00 C6 (45 ?? | 85 ?? ?? FF FF) 00 C7 (45 ?? | 85 ?? ?? FF FF) 02 00 00 00 }
        // ldxb 4*([14]&0xf); ldh [x+22]; jeq #k
        $udp_payload = { 66 C7 (45 ?? | 85 ?? ?? FF FF) B1 00 C6 (45 ?? | 85 ?? ?? FF FF) 00 C6 (45 ?? | 85 ?? ?? FF FF) 00 C7 (45 ?? | 85 ?? ?? FF FF) 0E 00 00 00
                         66 C7 (45 ?? | 85 ?? ?? FF FF) 48 00 C6 (45 ?? | 85 ?? ?? FF FF) 00 C6 (45 ?? | 85 ?? ?? FF FF) 00 C7 (45 ?? | 85 ?? ?? FF FF) 16 00 00 00
                         66 C7 (45 ?? | 85 ?? ?? FF FF) 15 00 }

    condition:
        uint32(0) == 0x464C457F and $tcp_arithmetic and $udp_payload
}

rule doorhunt_bpfdoor_filter_immediates_x64
{
    meta:
        description = "x86-64 code loading BPFDoor-shaped socket filter instructions as 64-bit immediates (movabs), as optimised builds do"
        author = "doorhunt"
        reference = "Elastic Security Labs 2022; BPFDOOR.md section 2"
        severity = 80
        example = "classic-x86-64-O2, variant-2025-static"

    strings:
        $ldxb_msh_14 = { 4? B? B1 00 00 00 0E 00 00 00 }
        $ldh_x_22 = { 4? B? 48 00 00 00 16 00 00 00 }
        $and_f0 = { 4? B? 54 00 00 00 F0 00 00 00 }
        $rsh_2 = { 4? B? 74 00 00 00 02 00 00 00 }
        $ldh_x_14 = { 4? B? 48 00 00 00 0E 00 00 00 }

    condition:
        uint32(0) == 0x464C457F and all of them and
        for all of ($ldxb_msh_14, $ldh_x_22, $and_f0, $rsh_2) : (
            @ > @ldh_x_14[1] - 1024 and @ < @ldh_x_14[1] + 1024
        )
}

rule doorhunt_bpfdoor_masquerade
{
    meta:
        description = "An ELF file carrying several of the daemon names BPFDoor shows in ps, with one of its PID/lock file paths or its copy in /dev/shm"
        author = "doorhunt"
        reference = "Sandfly 2022; KISA/KrCERT 2025; BPFDOOR.md section 3"
        severity = 80
        example = "classic-x86-64-O0, classic-x86-64-O2, classic-x86-32, variant-2025-static"

    strings:
        $name01 = "/sbin/udevd -d" fullword
        $name02 = "/sbin/mingetty /dev/tty7" fullword
        $name03 = "/usr/sbin/console-kit-daemon --no-daemon" fullword
        $name04 = "hald-addon-acpi: listening on acpi kernel interface /proc/acpi/event"
        $name05 = "dbus-daemon --system" fullword
        $name06 = "hald-runner" fullword
        $name07 = "pickup -l -t fifo -u" fullword
        $name08 = "avahi-daemon: chroot helper"
        $name09 = "/sbin/auditd -n" fullword
        $name10 = "/sbin/agetty --noclear tty1 linux" fullword
        $name11 = "/sbin/sgaSolAgent" fullword
        $name12 = "lldpad -d" fullword
        $name13 = "/usr/bin/uvp-srv" fullword
        $name14 = "/usr/bin/pulse-helper" fullword
        $name15 = "/sbin/ora_ppmond" fullword
        $name16 = "/usr/sbin/cron -f -P" fullword
        $name17 = "[kaluad_sync]"
        $name18 = "[charger_manager]"
        $name19 = "[scsi_tmf_6]"
        $pid = /\/(var\/)?run\/(haldrund|kdevrund|aepmonend|console-kit|consolekit|hald-addon|hald-smartd|hp-health|hpasmlited|uvp-srv|vmtoolagt)\.pid\x00/
        $lock = /\/(var\/)?run\/(xinetd|initd|cma|hpasmlit|lldpad)\.lock\x00/
        $install = "/dev/shm/kdmtmpflush"

    condition:
        uint32(0) == 0x464C457F and 3 of ($name*) and ($pid or $lock or $install)
}

rule doorhunt_bpfdoor_firewall_redirect
{
    meta:
        description = "iptables command templates for a bind shell: accept the caller, redirect its connection to the shell's port, and delete both rules again"
        author = "doorhunt"
        reference = "Elastic Security Labs 2022; BPFDOOR.md section 1 step 7"
        severity = 80
        example = "classic-x86-64-O0, classic-x86-64-O2, classic-x86-32, variant-2025-static"

    strings:
        $accept = /iptables -I INPUT -s %s -j ACCEPT/
        $redirect = /iptables -t nat -A PREROUTING [\x20-\x7e]{0,64}-j REDIRECT --to-ports %d/
        $accept_undo = /iptables -D INPUT -s %s -j ACCEPT/
        $redirect_undo = /iptables -t nat -D PREROUTING [\x20-\x7e]{0,64}-j REDIRECT --to-ports %d/
        $env_histfile = "HISTFILE=/dev/null" fullword
        $env_mysql = "MYSQL_HISTFILE=/dev/null" fullword

    condition:
        uint32(0) == 0x464C457F and $accept and $redirect and
        ($accept_undo or $redirect_undo) and ($env_histfile or $env_mysql)
}

rule doorhunt_bpfdoor_shell_disguise
{
    meta:
        description = "The environment and disguise of BPFDoor's shell: history off, HOME=/tmp, and the postfix names it hides behind"
        author = "doorhunt"
        reference = "Elastic Security Labs 2022; BPFDOOR.md section 1 step 7"
        severity = 70
        example = "classic-x86-64-O0, classic-x86-64-O2, classic-x86-32, variant-2025-static"

    strings:
        $env_histfile = "HISTFILE=/dev/null" fullword
        $env_mysql = "MYSQL_HISTFILE=/dev/null" fullword
        $env_home = "HOME=/tmp" fullword
        $env_term = "TERM=vt100" fullword
        $disguise_qmgr = "qmgr -l -t fifo -u" fullword
        $disguise_master = "/usr/libexec/postfix/master" fullword

    condition:
        uint32(0) == 0x464C457F and $env_histfile and $env_mysql and
        ($env_home or $env_term) and ($disguise_qmgr or $disguise_master)
}
