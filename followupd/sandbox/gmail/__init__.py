"""Gmail v1: messages, drafts and threads, stored as raw RFC 822 bytes.

Rooms: `store` (the mailbox and its mutation, UI-side actions included), `mime`
(reading RFC 822 bytes), `render` (the API's message formats), `search` (the `q`
operators), `handlers` (API methods mapped to the mailbox, with Google's errors),
`views` (the test API's views of stored messages).
"""
