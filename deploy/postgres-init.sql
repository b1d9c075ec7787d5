-- The warehouse database beside the instance's (the platform creates its roles and schemas).
CREATE DATABASE warehouse;
