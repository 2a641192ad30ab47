module intruder {
    requires dev.tokenwell;
}
