module demo {
    requires dev.tokenwell;
}
