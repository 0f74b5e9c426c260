"""The mayor's mailbox (市长信箱): public letter form, query page, publication of replies."""
