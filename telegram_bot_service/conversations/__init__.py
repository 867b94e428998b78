"""Multi-step dialogues (ConversationHandler): adding an account, writing a config."""
