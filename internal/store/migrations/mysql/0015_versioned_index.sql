-- Blind indexes now name the key that made them: "<key id>.<64 hex>"
-- (HMAC-SM3; a bare 64-hex index is a legacy HMAC-SHA256 one). Lookups
-- search every configured key's index and `bff keys rotate` finds the rows
-- still indexed with an older key by the prefix (docs/SECURITY.md). Sealed
-- values keep their size: SM4-GCM adds what AES-GCM added.
ALTER TABLE holders MODIFY id_number_idx VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE licences MODIFY number_idx VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
