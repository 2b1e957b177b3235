enum PKCS11TestsPlaceholder {}
