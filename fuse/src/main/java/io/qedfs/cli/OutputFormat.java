package io.qedfs.cli;

/** {@code --output human|json}, as qemu-img spells it (case-insensitive on the command line). */
enum OutputFormat {
    HUMAN, JSON
}
