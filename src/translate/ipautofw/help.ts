// The usage text of the IP Autoforward Control Program v0.20, printed with
// no arguments at all (also under ipmasqadm, where it still says ipautofw).
export const USAGE = `Usage:
    ipautofw <command> <options>

Valid commands:
    -A                           add new autoforward entry
    -D                           delete an autoforward entry
    -F                           flush the autoforward table

Valid options:
    -r <type> <low> <high>       forwarding on ports <low> to <high> using
                                 protocol <type> (tcp or udp)

    -h <host>                    IP address of host to receive forwarded
                                 packets

    -d <type> <low> <high>       specifies a set of ports which will not use
                                 the default high range (60000+) masquerade
                                 port area

    -p <type> <visible> <host>:<hidden>
                                 set up port bouncing from visible host port
                                 to masqueraded host <host> on port <hidden>,
                                 protocol <type> (currently not supported)

    -c <type> <port>             specifies a control port and protocol

    -u                           Do _not_ require that a host connect within
                                 15 seconds of triggering the control port

    -i                           Insecure mode; any host many connect after
                                 implied by not using the -c option or implied
                                 by using the -h option
                                 once the control port has been triggered
    -v                           Verbose mode

`
